"""Staff side: inbox per service area, assignment, accept/refuse applying the change."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from demandes import services
from demandes.models import Demande, DemandeEvent
from families.models import EntourageMember, Household
from families.services import request_change
from families.testing import PDF_BYTES, login
from tenants.testing import set_family_changes

pytestmark = pytest.mark.django_db

INBOX = "/castres/gestion/demandes/"


def _qf_demande(family, qf=820):
    return request_change(
        adult=family.adult,
        change="quotient_familial",
        payload={
            "quotient_familial": qf,
            "qf_source": "caf",
            "qf_date": "2026-09-01",
            "allocataire_regime": "caf",
            "allocataire_number": "7654321",
        },
    ).demande


def test_accepting_applies_the_change_with_history_and_mails(
    castres, durand, agent_facturation, mailoutbox, django_capture_on_commit_callbacks
):
    with tenant_context(castres), django_capture_on_commit_callbacks(execute=True):
        demande = _qf_demande(durand)
        services.change_status(demande=demande, action="start_review", actor=agent_facturation)
        services.change_status(
            demande=demande,
            action="accept",
            actor=agent_facturation,
            message="Attestation vérifiée.",
        )
        demande.refresh_from_db()
        assert demande.status == "accepted" and demande.assigned_to == agent_facturation
        assert Household.objects.get(pk=durand.household.pk).quotient_familial == 820
        history = list(demande.events.values_list("actor__username", "from_status", "to_status"))
        assert history == [
            ("durand", "", "submitted"),
            ("agent-facturation", "submitted", "in_review"),
            ("agent-facturation", "in_review", "accepted"),
        ]
    assert [m.subject.rsplit(": ", 1)[1] for m in mailoutbox] == [
        "envoyée",
        "en cours d'examen",
        "acceptée",
    ]
    assert all(m.to == ["durand@example.org"] for m in mailoutbox)
    assert "arachide" not in mailoutbox[-1].body  # no health data in e-mails
    assert "/castres/mon-espace/demandes/" in mailoutbox[-1].body


def test_refusing_needs_a_reason_and_changes_nothing(castres, durand, agent_facturation):
    with tenant_context(castres):
        demande = _qf_demande(durand)
        with pytest.raises(ValidationError, match="motif"):
            services.change_status(demande=demande, action="refuse", actor=agent_facturation)
        services.change_status(
            demande=demande,
            action="refuse",
            actor=agent_facturation,
            message="Attestation illisible.",
        )
        assert Demande.objects.get(pk=demande.pk).status == "refused"
        assert Household.objects.get(pk=durand.household.pk).quotient_familial == 650


def test_a_failing_handler_leaves_everything_as_it_was(castres, durand, agent_periscolaire):
    set_family_changes(castres, entourage_remove="validation")
    with tenant_context(castres):
        demande = request_change(
            adult=durand.adult,
            change="entourage_remove",
            payload={"member_id": durand.member.pk, "name": "Dominique"},
        ).demande
        EntourageMember.objects.filter(pk=durand.member.pk).delete()  # removed meanwhile
        with pytest.raises(ValidationError, match="déjà plus partie"):
            services.change_status(demande=demande, action="accept", actor=agent_periscolaire)
        assert Demande.objects.get(pk=demande.pk).status == "submitted"
        assert demande.events.count() == 1


def test_family_cannot_accept_its_own_request(castres, durand):
    with tenant_context(castres):
        demande = _qf_demande(durand)
        with pytest.raises(ValidationError, match="réservée aux services"):
            services.change_status(demande=demande, action="accept", actor=durand.user)


def test_assignment_only_to_an_agent_of_the_area(
    castres, durand, agent_facturation, agent_periscolaire, manager
):
    with tenant_context(castres):
        demande = _qf_demande(durand)
        with pytest.raises(ValidationError, match="ne travaille pas"):
            services.assign_demande(demande=demande, assignee=agent_periscolaire, actor=manager)
        demande = services.assign_demande(
            demande=demande, assignee=agent_facturation, actor=manager
        )
        assert demande.status == "in_review" and demande.assigned_to == agent_facturation
        assert DemandeEvent.objects.filter(demande=demande, internal=True).count() == 1


def test_inbox_is_scoped_to_the_agents_areas(
    client, castres, durand, agent_facturation, agent_periscolaire, manager
):
    with tenant_context(castres):
        qf = _qf_demande(durand)
        child = request_change(
            adult=durand.adult,
            change="child_add",
            payload={
                "first_name": "Noé",
                "last_name": "Durand",
                "birth_date": "2024-02-03",
                "adult_id": durand.adult.pk,
            },
        ).demande
    login(client, castres, agent_facturation)
    page = client.get(INBOX).content.decode()
    assert f'href="{INBOX}{qf.pk}/"' in page and f'href="{INBOX}{child.pk}/"' not in page
    assert client.get(INBOX + f"{child.pk}/").status_code == 404
    assert client.get(INBOX + "?service=periscolaire").status_code == 403
    assert client.get(INBOX + f"{qf.pk}/").status_code == 200
    login(client, castres, manager)
    page = client.get(INBOX + "?kind=child_add").content.decode()
    assert f'href="{INBOX}{child.pk}/"' in page and f'href="{INBOX}{qf.pk}/"' not in page
    page = client.get(INBOX + "?status=accepted").content.decode()
    assert "Aucune demande." in page


def test_family_accounts_cannot_open_the_inbox(client, castres, durand):
    login(client, castres, durand.user)
    assert client.get(INBOX).status_code == 403


def test_accept_from_the_staff_page(client, castres, durand, agent_facturation):
    with tenant_context(castres):
        qf = _qf_demande(durand)
    login(client, castres, agent_facturation)
    bad = client.post(INBOX + f"{qf.pk}/decision/", {"action": "refuse", "message": ""})
    assert bad.status_code == 400 and "motif du refus" in bad.content.decode()
    ok = client.post(INBOX + f"{qf.pk}/decision/", {"action": "accept", "message": "Vu."})
    assert ok.status_code == 302
    with tenant_context(castres):
        assert Household.objects.get(pk=durand.household.pk).quotient_familial == 820


def test_messages_with_attachment_both_ways(
    client,
    castres,
    durand,
    agent_facturation,
    media,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with tenant_context(castres):
        qf = _qf_demande(durand)
    login(client, castres, durand.user)
    page = f"/castres/mon-espace/demandes/{qf.pk}/"
    response = client.post(
        page,
        {
            "message": "Voici mon attestation.",
            "attachment": SimpleUploadedFile("attestation CAF.pdf", PDF_BYTES),
        },
    )
    assert response.status_code == 302
    bad = client.post(
        page, {"message": "", "attachment": SimpleUploadedFile("x.pdf", b"MZ\x90 binary")}
    )
    assert bad.status_code == 400 and "Formats acceptés" in bad.content.decode()
    with tenant_context(castres):
        event = DemandeEvent.objects.filter(demande=qf, attachments__isnull=False).get()
        attachment = event.attachments.get()
        assert attachment.original_name == "attestation CAF.pdf"
        assert (
            attachment.file.name.startswith("demandes/")
            and "attestation" not in attachment.file.name
        )
    assert (media / "castres" / attachment.file.name).exists()  # one media folder per town
    download = client.get(f"{page}pieces/{attachment.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PDF_BYTES
    login(client, castres, agent_facturation)
    assert client.get(INBOX + f"{qf.pk}/pieces/{attachment.pk}/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(INBOX + f"{qf.pk}/message/", {"message": "Merci, c'est complet."})
    assert mailoutbox[-1].subject.startswith("Nouveau message")
