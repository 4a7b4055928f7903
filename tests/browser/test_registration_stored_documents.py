"""Documents deposited once serve everywhere: a Castres family registers a
child to a service that asks for a civil-liability certificate, and picks the
valid one already in « Mes documents » — no new upload. An expired one is not
offered. Real Chromium, axe-core, screenshots at 390x844 and 1280x800."""

import copy
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from documents.testing import make_pdf

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SERVICE = "accueil-soir"


@pytest.fixture
def stored(live_town, django_db_blocker, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django_tenants.utils import tenant_context

    from documents.personal_data import erase_household
    from documents.services import upload_document
    from documents.testing import forget_media_root, login, make_family
    from tenants.models import Commune
    from tenants.testing import edit_town_config, service_options, services_restored

    settings.MEDIA_ROOT = str(tmp_path / "media")
    forget_media_root()
    with django_db_blocker.unblock():
        castres = Commune.objects.get(slug="castres")
        with tenant_context(castres):
            before = copy.deepcopy(castres.config)
            edit_town_config(
                castres,
                service_options(
                    SERVICE,
                    registration="validation",
                    documents=[
                        {
                            "code": "responsabilite-civile",
                            "label": "Attestation de responsabilité civile",
                        }
                    ],
                ),
            )
            fam = make_family("Perrin", username="perrin-navigateur")
            child = fam.children[0]
            type(child).objects.filter(pk=child.pk).update(birth_date=date(2019, 4, 2))
            today = timezone.localdate()
            valid = upload_document(
                household=fam.household,
                uploaded_by=fam.user,
                uploaded_file=SimpleUploadedFile(
                    "rc.pdf", make_pdf("Attestation RC 2026-2027"), "application/pdf"
                ),
                kind="attestation_rc",
                title="Attestation RC 2026-2027",
                issued_on=today - timedelta(days=30),
                valid_until=today + timedelta(days=300),
            )
            expired = upload_document(
                household=fam.household,
                uploaded_by=fam.user,
                uploaded_file=SimpleUploadedFile(
                    "ancienne.pdf", make_pdf("Attestation RC ancienne"), "application/pdf"
                ),
                kind="attestation_rc",
                title="Attestation RC ancienne",
                issued_on=today - timedelta(days=500),
                valid_until=today - timedelta(days=120),
            )
        cookie = login(fam.user, castres).cookies["sessionid"].value
    yield type(
        "Stored",
        (),
        {
            "castres": castres,
            "family": fam,
            "child": child,
            "valid": valid,
            "expired": expired,
            "cookie": cookie,
        },
    )
    with django_db_blocker.unblock(), tenant_context(castres):
        from booking.models import Registration, RegistrationDocument
        from demandes.models import Demande
        from families.models import Household

        RegistrationDocument.objects.filter(registration__child=child).delete()
        Registration.objects.filter(child=child).delete()
        erase_household(household=fam.household, actor=None, reason="fin du test")
        Demande.objects.filter(household=fam.household).delete()
        Household.objects.filter(pk=fam.household.pk).delete()
        edit_town_config(castres, services_restored(before))
    connection.set_schema_to_public()
    forget_media_root()


def test_a_registration_uses_a_stored_valid_document_without_a_new_upload(
    browser, live_town, stored, axe, django_db_blocker
):
    from django_tenants.utils import tenant_context

    ARTIFACTS.mkdir(exist_ok=True)
    url = f"{live_town.url}/castres/periscolaire/inscriptions/"
    for width, height in ((390, 844), (1280, 800)):
        context = browser.new_context(
            locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": width, "height": height}
        )
        context.set_default_timeout(15_000)
        context.add_cookies([{"name": "sessionid", "value": stored.cookie, "url": live_town.url}])
        page = context.new_page()
        page.goto(url)
        card = page.locator(f"section[aria-labelledby='svc-{SERVICE}']")
        offered = card.get_by_label("Utiliser « Attestation RC 2026-2027 »", exact=False)
        assert offered.is_checked()
        assert card.get_by_text("Attestation RC ancienne").count() == 0  # expired: not offered
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        card.scroll_into_view_if_needed()
        page.screenshot(
            path=str(ARTIFACTS / f"inscription-piece-deposee-{width}.png"), full_page=True
        )
        assert axe(page) == [], axe.format(axe(page))
        if width == 1280:
            card.get_by_role("button", name="Envoyer la demande").click()
            page.wait_for_load_state()
            assert "Demande d'inscription envoyée" in page.content()
            page.screenshot(path=str(ARTIFACTS / "inscription-envoyee-1280.png"), full_page=True)
        context.close()

    with django_db_blocker.unblock(), tenant_context(stored.castres):
        from booking.models import Registration

        registration = Registration.objects.get(child=stored.child, service__code=SERVICE)
        [paper] = registration.documents.all()
        assert paper.document_id == stored.valid.pk
        assert paper.file.name == stored.valid.file.name
        assert paper.code == "responsabilite-civile"
