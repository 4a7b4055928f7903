"""Personal-data rights: export (every row of the family, nothing of another),
erasure with legal retention, automatic retention purge, the access journal."""

import datetime as dt
import json
import logging

import pytest
from django.apps import apps
from django.core import mail
from django.utils import timezone

from audit import journal
from audit.models import AuditEntry
from demandes.services import submit_demande
from documents import personal_data, services
from documents.models import Document, DocumentUse, VaultItem
from documents.testing import login, make_pdf, upload


def populate(fam, *, marker: str):
    """Rows in every model that hangs off a family, each carrying `marker` where it can."""
    from families.models import Adult

    second = Adult.objects.create(
        household=fam.household,
        first_name="Second",
        last_name=marker,
        email=f"second.{marker.lower()}@example.org",
    )
    fam.children[0].guardians.add(second)
    demande = submit_demande(
        kind="inscription",
        subject=f"Inscription {marker}",
        submitted_by=fam.user,
        household=fam.household,
        child=fam.children[0],
        message=f"Message {marker}",
    )
    doc = services.upload_document(
        household=fam.household,
        uploaded_by=fam.user,
        kind="autre",
        uploaded_file=upload(make_pdf(f"Fichier {marker}")),
        title=f"Doc {marker}",
    )
    services.attach_document(document=doc, demande=demande, user=fam.user)
    services.vault_store(
        household=fam.household,
        uploaded_file=upload(make_pdf(f"Coffre {marker}")),
        title=f"Coffre {marker}",
    )
    return {"demande": demande, "document": doc, "adult2": second}


def _marked(marker: str) -> tuple[str, ...]:
    """The strings `populate()` writes for a family, to look for in another's export."""
    return (
        f"Inscription {marker}",
        f"Message {marker}",
        f"Doc {marker}",
        f"Coffre {marker}",
        f"second.{marker.lower()}@example.org",
    )


def _nonempty(label, qs):
    pks = set(qs.values_list("pk", flat=True))
    return {label: pks} if pks else {}


def expected_rows(fam):
    """What the export must hold, by explicit queries (independent of the generic walker)."""
    from accounts.models import UserSession
    from demandes.models import Demande, DemandeEvent
    from families.models import Adult, Child

    hh = fam.household
    Guardians = Child.guardians.through
    return {
        "families.Household": {hh.pk},
        "families.Adult": set(Adult.objects.filter(household=hh).values_list("pk", flat=True)),
        "families.Child": set(Child.objects.filter(household=hh).values_list("pk", flat=True)),
        "families.Child_guardians": set(
            Guardians.objects.filter(child__household=hh, adult__household=hh).values_list(
                "pk", flat=True
            )
        ),
        "accounts.User": {fam.user.pk},
        **_nonempty("accounts.UserSession", UserSession.objects.filter(user=fam.user)),
        "demandes.Demande": set(Demande.objects.filter(household=hh).values_list("pk", flat=True)),
        "demandes.DemandeEvent": set(
            DemandeEvent.objects.filter(demande__household=hh).values_list("pk", flat=True)
        ),
        "documents.Document": set(
            Document.objects.filter(household=hh).values_list("pk", flat=True)
        ),
        "documents.DocumentUse": set(
            DocumentUse.objects.filter(document__household=hh).values_list("pk", flat=True)
        ),
    }


def test_the_walker_finds_every_model_hanging_off_a_family():
    labels = {m._meta.label for m in personal_data._reachable_models()}
    assert {
        "families.Child_guardians",
        "demandes.Demande",
        "demandes.DemandeEvent",
        "documents.Document",
        "documents.DocumentUse",
        "documents.VaultItem",
    } <= labels
    # Town configuration, menus and the access journal are nobody's family data.
    assert not labels & {
        "core.Service",
        "core.Contact",
        "content.WeeklyMenu",
        "content.MenuDay",
        "audit.AuditEntry",
    }


@pytest.fixture
def three_families(family, neighbours, twin_in_bondoufle, castres, bondoufle, in_town, media):
    with in_town(castres):
        mine = populate(family, marker="Martin")
        populate(neighbours, marker="Durand")
        # Separated parents: the Durand father is also a guardian of Léa Martin.
        family.children[0].guardians.add(neighbours.adult)
        expected = expected_rows(family)
    with in_town(bondoufle):
        populate(twin_in_bondoufle, marker="Petit")
    return mine, expected


def test_export_contains_every_row_of_the_family_and_nothing_else(
    family, family_client, three_families, in_town
):
    mine, expected = three_families
    response = family_client.get("/castres/mes-donnees/export.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="mes-donnees-castres-')
    data, files = personal_data.open_export(b"".join(response.streaming_content))

    got = {label: {row["id"] for row in table["lignes"]} for label, table in data["tables"].items()}
    assert got == expected
    text = json.dumps(data, ensure_ascii=False)
    # The other families' MARKED rows (bare surnames may appear in Faker's names and streets).
    for other in ("Durand", "Petit"):
        for leaked in _marked(other):
            assert leaked not in text
    assert "durand@example.org" not in text and "petit@example.org" not in text
    assert "Inscription Martin" in text and "Message Martin" in text and "Second" in text
    assert "password" not in text and "Coffre" not in text  # no hash, no vault
    assert list(files.values()) == [make_pdf("Fichier Martin")]
    with in_town(family.commune):
        assert AuditEntry.objects.filter(
            action=journal.EXPORT, household_id=family.household.pk
        ).exists()


def test_export_api(family_client, three_families):
    response = family_client.get("/castres/api/mes-donnees/export/")
    data, _ = personal_data.open_export(b"".join(response.streaming_content))
    assert data["commune"] == "Castres" and "families.Household" in data["tables"]


def test_the_bondoufle_twin_exports_only_its_own_rows(twin_in_bondoufle, bondoufle, three_families):
    client = login(twin_in_bondoufle.user, bondoufle)
    data, files = personal_data.open_export(
        b"".join(client.get("/bondoufle/mes-donnees/export.zip").streaming_content)
    )
    text = json.dumps(data, ensure_ascii=False)
    assert "Inscription Petit" in text
    leaks = [leaked for other in ("Martin", "Durand") for leaked in _marked(other)]
    assert not [leaked for leaked in leaks if leaked in text]
    assert list(files.values()) == [make_pdf("Fichier Petit")]


def test_staff_cannot_download_a_familys_export(agent_client):
    assert agent_client.get("/castres/mes-donnees/export.zip").status_code == 404
    assert agent_client.get("/castres/api/mes-donnees/export/").status_code == 404


# --- erasure --------------------------------------------------------------------------


def test_a_family_asks_for_erasure(family, family_client, in_town):
    response = family_client.post(
        "/castres/mes-donnees/", {"confirm": "on", "message": "Nous déménageons."}
    )
    assert response.status_code == 302
    with in_town(family.commune):
        from demandes.models import Demande

        demande = Demande.objects.get(kind="erasure")
        assert demande.events.get().message == "Nous déménageons."
    assert demande.household_id == family.household.pk and demande.submitted_by_id == family.user.pk
    assert "en cours de traitement" in family_client.get("/castres/mes-donnees/").content.decode()
    again = family_client.post(
        "/castres/api/mes-donnees/effacement/", {}, content_type="application/json"
    )
    assert (
        again.status_code == 409
        and again.json()["detail"] == "Une demande d'effacement est déjà en cours."
    )


def test_erasure_requires_the_confirmation_box(family_client):
    assert family_client.post("/castres/mes-donnees/", {}).status_code == 400


def test_accepting_an_erasure_request_erases_the_family(
    family, three_families, castres, in_town, agent, media, django_capture_on_commit_callbacks
):
    from demandes import handlers
    from demandes.models import Demande
    from families.models import Adult, Child, Household

    mine, _ = three_families
    with in_town(castres):
        doc_path = media / "castres" / mine["document"].file.name
        vault_path = media / "castres" / VaultItem.objects.get(household=family.household).file.name
        demande = submit_demande(
            kind="erasure",
            subject="Effacement",
            submitted_by=family.user,
            household=family.household,
        )
        with django_capture_on_commit_callbacks(execute=True):
            handlers.get("erasure").apply(
                demande, agent
            )  # what the demandes flow does on acceptance
        household = Household.objects.get(pk=family.household.pk)
        # The erasure request is kept as proof; so is the household it points to, anonymised.
        assert list(Demande.objects.filter(household=household).values_list("kind", flat=True)) == [
            "erasure"
        ]
        assert household.name == "Anonyme" and household.address_line == "" and household.city == ""
        assert not Adult.objects.filter(household=household).exists()
        assert not Child.objects.filter(household=household).exists()
        assert not Document.objects.filter(household=household).exists()
        assert not VaultItem.objects.filter(household=household).exists()
        assert not type(family.user).objects.filter(username="martin").exists()
        assert not Adult.objects.filter(pk=mine["adult2"].pk).exists()
        # The neighbours are untouched, even the father who was Léa's guardian too.
        assert Document.objects.filter(title="Doc Durand").exists()
        assert Adult.objects.filter(last_name="Durand").exists()
        entry = AuditEntry.objects.get(action=journal.ERASURE)
    assert not doc_path.exists() and not vault_path.exists()
    assert entry.household_id == family.household.pk and entry.actor_id == agent.pk
    assert entry.detail["supprimé"]["documents.Document"] == 1
    assert [m.subject for m in mail.outbox] == ["Vos données ont été effacées"]
    assert sorted(mail.outbox[0].to) == ["claire.martin@example.org", "second.martin@example.org"]


def test_legal_retention_keeps_rows_and_anonymises_what_they_point_to(
    family, three_families, castres, in_town, agent_client
):
    from demandes.models import Demande
    from families.models import Child

    personal_data.register_retention(
        "demandes.Demande",
        reason="Pour le test : 10 ans.",
        keep=lambda qs: qs.filter(kind__in=["inscription", "erasure"]),
    )
    try:
        page = agent_client.get(
            f"/castres/gestion/donnees-personnelles/foyers/{family.household.pk}/"
        )
        assert page.status_code == 200 and "Pour le test : 10 ans." in page.content.decode()
        with in_town(castres):
            plan = personal_data.erasure_plan(family.household)
            lines = {line.label: (line.deleted, line.kept) for line in plan.lines}
            assert lines["demandes"] == (0, 1) and lines["enfants"] == (1, 1)
            report = personal_data.erase_household(
                household=family.household, actor=None, reason="test"
            )
            kept_child = Child.objects.get(pk=family.children[0].pk)
            assert Demande.objects.filter(household=family.household, kind="inscription").exists()
            assert not Child.objects.filter(pk=family.children[1].pk).exists()
    finally:
        personal_data.register_retention(
            "demandes.Demande",
            reason=personal_data.retentions()["demandes.Demande"].reason,
            keep=lambda qs: qs.filter(kind="erasure"),
        )
    assert (kept_child.first_name, kept_child.last_name) == ("Anonyme", "Anonyme")
    assert kept_child.birth_date == dt.date(kept_child.birth_date.year, 1, 1)
    assert report.kept == {"demandes.Demande": 1}
    with in_town(castres):
        assert AuditEntry.objects.filter(action=journal.VIEW_ERASURE_PLAN).exists()


def test_staff_see_erasure_requests(family, agent_client, in_town):
    with in_town(family.commune):
        submit_demande(
            kind="erasure",
            subject="Effacement",
            submitted_by=family.user,
            household=family.household,
        )
    body = agent_client.get("/castres/gestion/donnees-personnelles/").content.decode()
    assert "Famille Martin" in body and f"foyers/{family.household.pk}/" in body


def test_families_cannot_see_the_erasure_plan(family, family_client):
    assert (
        family_client.get(
            f"/castres/gestion/donnees-personnelles/foyers/{family.household.pk}/"
        ).status_code
        == 403
    )


# --- retention purge ---------------------------------------------------------------------


def age(fam, years: float):
    """Make a family look inactive for `years` (every timestamp of its rows)."""
    from demandes.models import Demande, DemandeEvent
    from families.models import Household

    then = timezone.now() - dt.timedelta(days=int(365.25 * years))
    Household.objects.filter(pk=fam.household.pk).update(created_at=then)
    type(fam.user).objects.filter(pk=fam.user.pk).update(last_login=then, date_joined=then)
    Demande.objects.filter(household=fam.household).update(created_at=then, updated_at=then)
    DemandeEvent.objects.filter(demande__household=fam.household).update(created_at=then)
    Document.objects.filter(household=fam.household).update(created_at=then)
    DocumentUse.objects.filter(document__household=fam.household).update(created_at=then)
    VaultItem.objects.filter(household=fam.household).update(created_at=then)


def test_retention_purge_erases_inactive_families_only(
    family, neighbours, three_families, castres, in_town, caplog
):
    from documents.tasks import dispatch_retention_purge
    from families.models import Household

    with in_town(castres):
        age(family, 3.2)
        age(neighbours, 2.5)
    with caplog.at_level(logging.INFO, logger="documents.personal_data"):
        dispatch_retention_purge.delay().get()
    with in_town(castres):
        assert not Household.objects.filter(pk=family.household.pk).exists()
        assert Household.objects.filter(pk=neighbours.household.pk).exists()
        entry = AuditEntry.objects.get(action=journal.RETENTION_PURGE)
    assert entry.actor is None and entry.actor_label == "traitement automatique"
    assert "Aucune activité depuis le" in entry.detail["motif"]
    assert any(r.getMessage() == "retention purge" and r.purged == 1 for r in caplog.records)
    # A second run finds nothing more to do and writes nothing.
    dispatch_retention_purge.delay().get()
    with in_town(castres):
        assert AuditEntry.objects.filter(action=journal.RETENTION_PURGE).count() == 1


def test_one_recent_row_keeps_a_family(family, three_families, castres, in_town):
    with in_town(castres):
        age(family, 4)
        Document.objects.filter(household=family.household).update(created_at=timezone.now())
        assert personal_data.purge_inactive_households(commune=castres) == []


def test_a_town_sets_its_own_retention_period(family, three_families, castres, in_town):
    castres.config = {**castres.config, "data_protection": {"retention_years": 5}}
    with in_town(castres):
        age(family, 4)
        assert personal_data.purge_inactive_households(commune=castres) == []
        age(family, 5.1)
        assert personal_data.purge_inactive_households(commune=castres) == [family.household.pk]


def test_the_purge_is_scheduled_by_beat(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "documents.tasks.dispatch_retention_purge",
        "documents.tasks.dispatch_expiry_reminders",
    } <= tasks


# --- the access journal (DPO) -----------------------------------------------------------


def test_the_dpo_reads_the_access_journal(
    family, town_admin, agent_client, castres, in_town, media
):
    with in_town(castres):
        doc = services.upload_document(
            household=family.household,
            uploaded_by=family.user,
            kind="autre",
            uploaded_file=upload(make_pdf()),
        )
    agent_client.get(f"/castres/gestion/justificatifs/{doc.pk}/")
    agent_client.get(f"/castres/gestion/justificatifs/{doc.pk}/fichier/")
    dpo = login(town_admin, castres)
    page = dpo.get(f"/castres/gestion/journal-des-acces/?foyer={family.household.pk}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "agent-ecoles (agent)" in body
    assert "consultation d&#x27;une pièce justificative" in body
    assert "téléchargement d&#x27;une pièce justificative" in body
    assert agent_client.get("/castres/gestion/journal-des-acces/").status_code == 403


def test_families_cannot_read_the_journal(family_client):
    assert family_client.get("/castres/gestion/journal-des-acces/").status_code == 403


def test_every_tenant_model_is_known(db):
    """Guard: the walker sees the models of the installed town apps."""
    assert apps.get_model("documents", "VaultItem") in personal_data.tenant_models()
