"""A Castres family uploads a vaccination record, attaches it to a request, and an
agent validates it — in real Chromium, with axe-core on every page visited.

Sign-in pages belong to the accounts issue: sessions are created with
`Client.force_login` and their cookie is handed to the browser.
"""

import pytest

from documents.testing import make_pdf

PDF = make_pdf("Carnet de vaccination de Léna")


@pytest.fixture
def people(live_town, django_db_blocker, settings, tmp_path):
    from django.db import connection
    from django_tenants.utils import tenant_context

    from demandes.services import submit_demande
    from documents.personal_data import erase_household
    from documents.testing import forget_media_root, login, make_family
    from tenants.models import Commune
    from tests.factories import UserFactory

    settings.MEDIA_ROOT = str(tmp_path / "media")
    forget_media_root()
    with django_db_blocker.unblock():
        castres = Commune.objects.get(slug="castres")
        with tenant_context(castres):
            fam = make_family("Leroy", username="leroy-navigateur")
            agent = UserFactory(
                username="agent-navigateur", role="agent", service_areas=["periscolaire"]
            )
            demande = submit_demande(
                kind="inscription",
                subject="Inscription à l'accueil du soir",
                submitted_by=fam.user,
                household=fam.household,
                child=fam.children[0],
                service_area="periscolaire",
            )
        cookies = {"family": login(fam.user, castres), "agent": login(agent, castres)}
    yield type(
        "People",
        (),
        {
            "castres": castres,
            "family": fam,
            "agent": agent,
            "demande": demande,
            "cookies": {k: c.cookies["sessionid"].value for k, c in cookies.items()},
        },
    )
    with django_db_blocker.unblock(), tenant_context(castres):
        # Nothing is rolled back under a live server: erase what the test created.
        erase_household(household=fam.household, actor=None, reason="fin du test")
        from demandes.models import Demande
        from families.models import Household

        Demande.objects.filter(household=fam.household).delete()
        Household.objects.filter(pk=fam.household.pk).delete()
        type(agent).objects.filter(pk=agent.pk).delete()
    connection.set_schema_to_public()
    forget_media_root()


def signed_in(browser, live_town, session_id):
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "sessionid", "value": session_id, "url": live_town.url}])
    return context, context.new_page()


def test_upload_attach_and_validate(browser, live_town, people, axe, django_db_blocker):
    base = f"{live_town.url}/castres"
    family_context, page = signed_in(browser, live_town, people.cookies["family"])
    page.goto(f"{base}/mes-documents/")
    assert page.get_by_role("heading", level=1).inner_text() == "Mes pièces justificatives"
    assert axe(page) == [], axe.format(axe(page))

    page.get_by_label("Type de document").select_option("carnet_vaccination")
    page.get_by_label("Fichier (PDF, PNG ou JPEG, 10 Mo au plus)").set_input_files(
        files=[{"name": "carnet.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_label("Intitulé (facultatif)").fill("Carnet de vaccination de Léna")
    page.get_by_label("Enfant concerné (facultatif)").select_option(label="Enfant")
    page.get_by_role("button", name="Déposer").click()
    page.wait_for_url(f"{base}/mes-documents/")
    assert page.get_by_role("status").inner_text().startswith("Votre document a été déposé.")
    row = page.get_by_role("row", name="Carnet de vaccination de Léna")
    assert "à vérifier" in row.inner_text()

    page.get_by_role("link", name="Carnet de vaccination de Léna").click()
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role("combobox", name="Demande").select_option(
        label=f"Inscription à l'accueil du soir — envoyée (n° {people.demande.pk})"
    )
    page.get_by_role("button", name="Joindre").click()
    assert page.get_by_role("status").inner_text() == "Le document est joint à votre demande."
    assert page.get_by_text("Inscription à l'accueil du soir (envoyée)").is_visible()

    agent_context, staff = signed_in(browser, live_town, people.cookies["agent"])
    staff.goto(f"{base}/gestion/justificatifs/?statut=to_check&demande={people.demande.pk}")
    assert axe(staff) == [], axe.format(axe(staff))
    staff.get_by_role("link", name="Carnet de vaccination de Léna").click()
    assert staff.get_by_text(
        f"n° {people.demande.pk} — Inscription à l'accueil du soir"
    ).is_visible()
    assert axe(staff) == [], axe.format(axe(staff))
    with staff.expect_download() as download:
        staff.get_by_role("link", name="Télécharger le fichier").click()
    assert open(download.value.path(), "rb").read() == PDF
    staff.get_by_label("Valider").check()
    staff.get_by_role("button", name="Enregistrer la décision").click()
    assert staff.get_by_role("status").inner_text() == "Décision enregistrée."

    page.goto(f"{base}/mes-documents/")
    assert "validé" in page.get_by_role("row", name="Carnet de vaccination de Léna").inner_text()
    with django_db_blocker.unblock():
        from django_tenants.utils import tenant_context

        from documents.models import Document

        with tenant_context(people.castres):
            doc = Document.objects.get(household=people.family.household)
            assert (doc.status, doc.reviewed_by_id, doc.kind) == (
                "valid",
                people.agent.pk,
                "carnet_vaccination",
            )
            assert list(doc.uses.values_list("demande_id", flat=True)) == [people.demande.pk]
    family_context.close()
    agent_context.close()


def test_staff_see_no_vault_in_the_browser(browser, live_town, people):
    context, page = signed_in(browser, live_town, people.cookies["agent"])
    response = page.goto(f"{live_town.url}/castres/coffre-fort/")
    assert response.status == 404
    context.close()
