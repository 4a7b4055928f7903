"""Supporting documents end to end: a family uploads once, attaches to a request,
staff validate or reject; every object URL is tried with another family's and
another town's ids."""

import datetime as dt

import pytest
from django.core import mail

from audit import journal
from audit.models import AuditEntry
from documents import services
from documents.models import Document, DocumentUse
from documents.testing import login, make_image, make_pdf, upload


@pytest.fixture
def vaccination(family, media, in_town):
    with in_town(family.commune):
        return services.upload_document(
            household=family.household,
            uploaded_by=family.user,
            kind="carnet_vaccination",
            uploaded_file=upload(make_pdf("Carnet de Léa"), "carnet.pdf"),
            child=family.children[0],
            title="Carnet de vaccination de Léa",
        )


def test_a_family_uploads_a_document_on_its_page(family, family_client, media, in_town):
    response = family_client.post(
        "/castres/mes-documents/",
        {
            "kind": "justificatif_domicile",
            "file": upload(make_image("JPEG"), "facture-edf.jpg", "image/jpeg"),
            "issued_on": "2026-01-10",
        },
    )
    assert response.status_code == 302
    with in_town(family.commune):
        doc = Document.objects.get()
    assert doc.household_id == family.household.pk and doc.uploaded_by_id == family.user.pk
    assert doc.status == "to_check" and doc.content_type == "image/jpeg"
    assert doc.valid_until == dt.date(2026, 4, 10)  # proof of address: 3 months
    # Server-generated storage name, stored under the town's media folder.
    assert doc.file.name.startswith("justificatifs/") and "facture" not in doc.file.name
    assert (media / "castres" / doc.file.name).is_file()
    page = family_client.get("/castres/mes-documents/")
    assert "Justificatif de domicile" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") and "no-store" in page["Cache-Control"]


def test_download_is_an_attachment_never_sniffed(family, family_client, vaccination):
    response = family_client.get(f"/castres/mes-documents/{vaccination.pk}/fichier/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="carnet-de-vaccination-de-lea.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == make_pdf("Carnet de Léa")


def test_attach_to_a_request_then_staff_validate(
    family, family_client, vaccination, demande, agent_client, agent, in_town
):
    response = family_client.post(
        f"/castres/mes-documents/{vaccination.pk}/", {"demande": demande.pk}
    )
    assert response.status_code == 302
    family_client.post(
        f"/castres/mes-documents/{vaccination.pk}/", {"demande": demande.pk}
    )  # idempotent
    with in_town(family.commune):
        assert DocumentUse.objects.filter(document=vaccination, demande=demande).count() == 1

    listing = agent_client.get(
        f"/castres/gestion/justificatifs/?statut=to_check&demande={demande.pk}"
    )
    assert "Carnet de vaccination de Léa" in listing.content.decode()
    detail = agent_client.get(f"/castres/gestion/justificatifs/{vaccination.pk}/")
    assert (
        detail.status_code == 200 and "Inscription périscolaire de Léa" in detail.content.decode()
    )
    response = agent_client.post(
        f"/castres/gestion/justificatifs/{vaccination.pk}/", {"status": "valid"}
    )
    assert response.status_code == 302
    with in_town(family.commune):
        vaccination.refresh_from_db()
        actions = list(
            AuditEntry.objects.filter(household_id=family.household.pk).values_list(
                "action", flat=True
            )
        )
    assert vaccination.status == "valid" and vaccination.reviewed_by_id == agent.pk
    assert journal.VIEW_DOCUMENT in actions and journal.REVIEW_DOCUMENT in actions


def test_rejecting_needs_a_reason_and_tells_the_family(
    family, vaccination, agent_client, in_town, django_capture_on_commit_callbacks
):
    response = agent_client.post(
        f"/castres/gestion/justificatifs/{vaccination.pk}/", {"status": "rejected"}
    )
    assert response.status_code == 400
    assert "Indiquez le motif du refus" in response.content.decode()
    with in_town(family.commune):
        assert Document.objects.get(pk=vaccination.pk).status == "to_check"
    with django_capture_on_commit_callbacks(execute=True):
        api = agent_client.post(
            f"/castres/api/gestion/justificatifs/{vaccination.pk}/decision/",
            {"status": "rejected", "reason": "Page des vaccins illisible"},
            content_type="application/json",
        )
    assert api.status_code == 200 and api.json()["status"] == "rejected"
    assert [m.to for m in mail.outbox] == [["claire.martin@example.org"]]
    assert "Page des vaccins illisible" in mail.outbox[0].body
    assert "http://127.0.0.1:8000/castres/mes-documents/" in mail.outbox[0].body


def test_the_family_api(family, family_client, media, demande):
    created = family_client.post(
        "/castres/api/justificatifs/",
        {
            "kind": "attestation_rc",
            "file": upload(make_pdf("MAIF"), "rc.pdf"),
            "issued_on": "2025-09-02",
            "child": family.children[1].pk,
        },
    )
    assert created.status_code == 201, created.content
    doc = created.json()
    assert doc["valid_until"] == "2026-08-31" and doc["status"] == "to_check"
    listing = family_client.get("/castres/api/justificatifs/").json()
    assert [d["id"] for d in listing] == [doc["id"]]
    attach = family_client.post(
        f"/castres/api/justificatifs/{doc['id']}/demandes/",
        {"demande": demande.pk},
        content_type="application/json",
    )
    assert attach.status_code == 201 and attach.json()["demandes"] == [demande.pk]
    file = family_client.get(doc["download_url"])
    assert file.status_code == 200 and file["Content-Disposition"].startswith("attachment")


def test_a_child_of_another_household_is_refused(family, family_client, neighbours, media):
    response = family_client.post(
        "/castres/api/justificatifs/",
        {"kind": "autre", "file": upload(make_pdf()), "child": neighbours.children[0].pk},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Cet enfant ne fait pas partie de votre foyer."


def test_staff_api_lists_and_validates(vaccination, agent_client):
    listing = agent_client.get("/castres/api/gestion/justificatifs/?statut=to_check")
    assert [d["id"] for d in listing.json()] == [vaccination.pk]
    assert listing.json()[0]["household_name"] == "Famille Martin"
    decision = agent_client.post(
        f"/castres/api/gestion/justificatifs/{vaccination.pk}/decision/",
        {"status": "valid"},
        content_type="application/json",
    )
    assert decision.status_code == 200 and decision.json()["status"] == "valid"
    assert (
        agent_client.get(
            f"/castres/api/gestion/justificatifs/{vaccination.pk}/fichier/"
        ).status_code
        == 200
    )


def test_families_cannot_use_staff_pages(family_client, vaccination):
    assert family_client.get("/castres/gestion/justificatifs/").status_code == 403
    assert family_client.get(f"/castres/gestion/justificatifs/{vaccination.pk}/").status_code == 403
    assert family_client.get("/castres/api/gestion/justificatifs/").status_code == 403
    assert (
        family_client.post(
            f"/castres/api/gestion/justificatifs/{vaccination.pk}/decision/", {"status": "valid"}
        ).status_code
        == 403
    )


def test_a_document_in_use_cannot_be_deleted(family, family_client, vaccination, demande, in_town):
    with in_town(family.commune):
        services.attach_document(document=vaccination, demande=demande, user=family.user)
    response = family_client.post(f"/castres/mes-documents/{vaccination.pk}/supprimer/")
    assert response.status_code == 302
    with in_town(family.commune):
        assert Document.objects.filter(pk=vaccination.pk).exists()


def test_deleting_removes_the_file(
    family, family_client, vaccination, media, in_town, django_capture_on_commit_callbacks
):
    path = media / "castres" / vaccination.file.name
    assert path.is_file()
    with django_capture_on_commit_callbacks(execute=True):
        family_client.post(f"/castres/mes-documents/{vaccination.pk}/supprimer/")
    with in_town(family.commune):
        assert not Document.objects.filter(pk=vaccination.pk).exists()
    assert not path.exists()


# --- other families, other towns ------------------------------------------------


def family_urls(pk):
    return [
        f"/castres/mes-documents/{pk}/",
        f"/castres/mes-documents/{pk}/fichier/",
        f"/castres/api/justificatifs/{pk}/",
        f"/castres/api/justificatifs/{pk}/fichier/",
    ]


def test_another_family_gets_404_on_every_document_url(vaccination, neighbours, castres, demande):
    other = login(neighbours.user, castres)
    for url in family_urls(vaccination.pk):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/castres/mes-documents/{vaccination.pk}/supprimer/").status_code == 404
    assert (
        other.post(
            f"/castres/api/justificatifs/{vaccination.pk}/demandes/",
            {"demande": demande.pk},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert other.get("/castres/api/justificatifs/").json() == []


def test_a_family_cannot_attach_to_another_familys_request(
    family, family_client, vaccination, neighbours, in_town
):
    from demandes.services import submit_demande

    with in_town(family.commune):
        theirs = submit_demande(
            kind="inscription",
            subject="Demande des Durand",
            submitted_by=neighbours.user,
            household=neighbours.household,
        )
    api = family_client.post(
        f"/castres/api/justificatifs/{vaccination.pk}/demandes/",
        {"demande": theirs.pk},
        content_type="application/json",
    )
    assert api.status_code == 404
    page = family_client.post(f"/castres/mes-documents/{vaccination.pk}/", {"demande": theirs.pk})
    assert page.status_code == 400  # not among the choices
    with in_town(family.commune):
        assert not DocumentUse.objects.exists()


def test_colliding_ids_across_towns_never_cross(
    family, family_client, vaccination, twin_in_bondoufle, bondoufle, in_town, media
):
    """Bondoufle's family has the Martins' household, child and account ids."""
    with in_town(bondoufle):
        theirs = services.upload_document(
            household=twin_in_bondoufle.household,
            uploaded_by=twin_in_bondoufle.user,
            kind="autre",
            uploaded_file=upload(make_pdf("Bondoufle"), "b.pdf"),
        )
        Document.objects.filter(pk=theirs.pk).update(id=vaccination.pk)  # same document id too
    twin = login(twin_in_bondoufle.user, bondoufle)
    mine = b"".join(
        family_client.get(f"/castres/mes-documents/{vaccination.pk}/fichier/").streaming_content
    )
    their = b"".join(
        twin.get(f"/bondoufle/mes-documents/{vaccination.pk}/fichier/").streaming_content
    )
    assert mine == make_pdf("Carnet de Léa") and their == make_pdf("Bondoufle")
    # A Castres session means nothing in Bondoufle (sessions live in each town's schema), and back.
    assert family_client.get("/bondoufle/api/justificatifs/").status_code == 403
    assert twin.get(f"/castres/api/justificatifs/{vaccination.pk}/").status_code == 403
    assert (media / "castres" / vaccination.file.name).is_file()
    assert not (media / "bondoufle" / vaccination.file.name).exists()


def test_bondoufle_staff_never_reach_castres_documents(
    vaccination, bondoufle, in_town, twin_in_bondoufle
):
    from tests.factories import UserFactory

    with in_town(bondoufle):
        staff = UserFactory(username="agent-bondoufle", role="manager")
    client = login(staff, bondoufle)
    assert client.get(f"/bondoufle/gestion/justificatifs/{vaccination.pk}/").status_code == 404
    assert client.get("/bondoufle/api/gestion/justificatifs/").json() == []


# --- expiry reminders -------------------------------------------------------------


def test_expiry_reminders_are_sent_once(family, media, in_town, django_capture_on_commit_callbacks):
    from documents.tasks import dispatch_expiry_reminders

    today = dt.date.today()
    with in_town(family.commune):
        expiring = services.upload_document(
            household=family.household,
            uploaded_by=family.user,
            kind="attestation_caf",
            uploaded_file=upload(make_pdf()),
            valid_until=today + dt.timedelta(days=10),
        )
        services.upload_document(  # far from expiry
            household=family.household,
            uploaded_by=family.user,
            kind="avis_imposition",
            uploaded_file=upload(make_pdf()),
            valid_until=today + dt.timedelta(days=200),
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_expiry_reminders.delay().get() >= 2  # one task per active town
    assert [m.subject for m in mail.outbox] == ["Un de vos justificatifs arrive à expiration"]
    assert mail.outbox[0].to == ["claire.martin@example.org"]
    assert (today + dt.timedelta(days=10)).strftime("%d/%m/%Y") in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_expiry_reminders.delay().get()
    assert len(mail.outbox) == 1
    with in_town(family.commune):
        expiring.refresh_from_db()
        assert expiring.reminded_for == today + dt.timedelta(days=10)


def test_no_reminder_when_a_newer_document_replaces_it(family, media, in_town):
    today = dt.date.today()
    with in_town(family.commune):
        for days in (5, 300):
            services.upload_document(
                household=family.household,
                uploaded_by=family.user,
                kind="attestation_rc",
                uploaded_file=upload(make_pdf()),
                valid_until=today + dt.timedelta(days=days),
            )
        assert services.send_expiry_reminders() == 0
    assert mail.outbox == []


def test_a_decision_must_be_valid_or_rejected(vaccination, agent_client):
    response = agent_client.post(
        f"/castres/api/gestion/justificatifs/{vaccination.pk}/decision/",
        {"status": "to_check"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Décision inconnue : choisissez « validé » ou « refusé »."
