"""Registrations (auto, validated by the service with documents), absences with
justification and staff decision, attendance, and the catalogue synced from YAML."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from booking.absences import decide_absence, mark_attendance, report_absence
from booking.models import Absence, Activity, Booking, Registration, RegistrationDocument, Site
from booking.registrations import (
    DEMANDE_KIND,
    RegistrationRefused,
    accept_from_demande,
    request_registration,
)
from booking.services import BookingRefused, book_days
from booking.tests.conftest import MON_15, PDF, THU_18, make_staff
from booking.tests.helpers import paris
from tenants.testing import edit_town_config, service_options


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"


def _pdf(name="certificat.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def test_automatic_registration_is_accepted_at_once(
    family, in_town, django_capture_on_commit_callbacks
):
    from core.models import Service

    lea = family.children[0]
    with in_town(family.commune), django_capture_on_commit_callbacks(execute=True):
        service = Service.objects.get(code="accueil-soir")
        site = Site.objects.get(code="ecole-lameilhe")
        reg = request_registration(
            child=lea, service=service, school_year=2026, site=site, user=family.user
        )
        assert reg.status == Registration.Status.ACCEPTED and reg.site == site
        with pytest.raises(RegistrationRefused, match="déjà inscrit"):
            request_registration(child=lea, service=service, school_year=2026, site=site)
        with pytest.raises(RegistrationRefused, match="lieu d'accueil"):
            request_registration(child=lea, service=service, school_year=2027)
    assert "validée" in mail.outbox[0].subject


def test_validated_registration_with_documents_through_a_demande(family, in_town):
    """Chalonnes' rule on a Castres service: documents, then the service's validation."""
    from core.models import Service
    from demandes import handlers
    from demandes.models import Demande

    lea = family.children[0]
    with in_town(family.commune):
        service = Service.objects.get(code="alsh-mercredi")
        edit_town_config(
            family.commune,
            service_options(
                service.code,
                **{
                    "registration": "validation",
                    "documents": [
                        {
                            "code": "responsabilite-civile",
                            "label": "Attestation de responsabilité civile",
                        },
                        {"code": "vaccinations", "label": "Copie des vaccins à jour"},
                    ],
                },
            ),
        )
        service.refresh_from_db()
        with pytest.raises(RegistrationRefused, match="Pièce manquante : Copie des vaccins"):
            request_registration(
                child=lea,
                service=service,
                school_year=2026,
                documents={"responsabilite-civile": _pdf()},
            )
        with pytest.raises(RegistrationRefused, match="Formats acceptés"):
            request_registration(
                child=lea,
                service=service,
                school_year=2026,
                documents={
                    "responsabilite-civile": _pdf(),
                    "vaccinations": SimpleUploadedFile("v.pdf", b"MZ\x90 not a pdf"),
                },
            )
        reg = request_registration(
            child=lea,
            service=service,
            school_year=2026,
            user=family.user,
            documents={"responsabilite-civile": _pdf(), "vaccinations": _pdf("vaccins.pdf")},
        )
        assert reg.status == Registration.Status.PENDING
        docs = RegistrationDocument.objects.filter(registration=reg)
        assert {d.original_name for d in docs} == {"certificat.pdf", "vaccins.pdf"}
        assert all(d.file.name.endswith(".pdf") and "vaccins" not in d.file.name for d in docs)
        demande = Demande.objects.get(kind=DEMANDE_KIND)
        assert demande.child == lea and demande.service_area == "alsh"
        assert handlers.get(DEMANDE_KIND).apply is accept_from_demande
        accept_from_demande(demande, make_staff(areas=["alsh"]))
        reg.refresh_from_db()
        assert reg.status == Registration.Status.ACCEPTED and reg.decided_by is not None


def _booked_day(family, in_town, day=MON_15):
    from core.models import Service

    service = Service.objects.get(code="restauration-scolaire")
    activity = Activity.objects.get(code="restauration-scolaire--ecole-centre")
    from booking.models import DaySlot

    DaySlot.objects.create(activity=activity, day=day, capacity=10)
    return book_days(child=family.children[0], activity=activity, days=[day], staff=True).days[
        0
    ].booking, service


def test_absence_with_a_pdf_then_staff_decision(
    family, in_town, django_capture_on_commit_callbacks
):
    with in_town(family.commune), django_capture_on_commit_callbacks(execute=True):
        booking, _ = _booked_day(family, in_town)
        with pytest.raises(BookingRefused, match="peut encore être annulé sans frais"):
            report_absence(booking=booking, reason="illness", now=paris(2027, 3, 1))
        absence = report_absence(
            booking=booking,
            reason="illness",
            comment="Fièvre",
            upload=_pdf("certificat-medical.pdf"),
            user=family.user,
            now=paris(2027, 3, 14, 20),
        )
        assert absence.decision == Absence.Decision.PENDING
        assert absence.justification_name == "certificat-medical.pdf"
        assert absence.justification_type == "application/pdf"
        with pytest.raises(BookingRefused, match="déjà signalée"):
            report_absence(booking=booking, reason="illness", now=paris(2027, 3, 14, 20))
        staff = make_staff()
        decide_absence(
            absence=absence, decision="justified", actor=staff, comment="Bon rétablissement"
        )
        with pytest.raises(BookingRefused, match="déjà été examinée"):
            decide_absence(absence=absence, decision="unjustified", actor=staff)
        absence.refresh_from_db()
        # What billing reads (modules.billing): the decision, the attendance, the late flag.
        assert (absence.decision, absence.booking.attendance, absence.booking.cancelled_late) == (
            "justified",
            "pending",
            False,
        )
    subjects = [m.subject for m in mail.outbox]
    assert subjects == ["Signalement d'absence reçu", "Absence examinée : justifiée"]
    assert "Bon rétablissement" in mail.outbox[1].body


def test_absence_rules_window_and_required_file(family, in_town):
    with in_town(family.commune):
        booking, service = _booked_day(family, in_town)
        with pytest.raises(BookingRefused, match="jusqu'au lundi 22 mars 2027"):
            report_absence(booking=booking, reason="illness", now=paris(2027, 3, 23, 9))
        edit_town_config(
            family.commune,
            service_options(service.code, **{"absences": {"justification": "required"}}),
        )
        service.refresh_from_db()
        with pytest.raises(BookingRefused, match="justificatif est obligatoire"):
            report_absence(booking=booking, reason="illness", now=paris(2027, 3, 15, 9))
        with pytest.raises(BookingRefused, match="5 Mo"):
            big = SimpleUploadedFile("gros.pdf", PDF + b"0" * (5 * 1024 * 1024))
            report_absence(booking=booking, reason="illness", upload=big, now=paris(2027, 3, 15, 9))
        assert not Absence.objects.exists()


def test_attendance(family, in_town):
    with in_town(family.commune):
        booking, _ = _booked_day(family, in_town, THU_18)
        mark_attendance(booking=booking, attendance="present")
        assert Booking.objects.get(pk=booking.pk).attendance == "present"
        with pytest.raises(BookingRefused):
            mark_attendance(booking=booking, attendance="peut-être")


def test_catalogue_synced_from_the_yaml(castres, bondoufle, in_town):
    with in_town(castres):
        meals = Activity.objects.filter(service__code="restauration-scolaire", is_active=True)
        assert {(a.site.name, a.default_capacity) for a in meals} == {
            ("Groupe scolaire du centre", 120),
            ("Groupe scolaire de Lameilhé", 90),
        }
        a = meals.get(site__code="ecole-centre")
        assert (a.min_age_months, a.max_age_months, a.day_kinds) == (30, 155, ["school_day"])
    with in_town(bondoufle):
        hours = Activity.objects.filter(service__code="creche-occasionnelle", is_active=True)
        assert hours.count() == 10
        first = hours.order_by("starts_at").first()
        assert (str(first.starts_at), str(first.ends_at)) == ("08:00:00", "09:00:00")
        assert first.name.endswith("— Maison de la Petite Enfance — 08:00-09:00")


def test_sync_switches_off_what_left_the_file(castres, in_town):
    from booking.catalogue import sync_activities
    from core.models import Service

    with in_town(castres):
        service = Service.objects.get(code="accueil-matin")
        edit_town_config(
            castres,
            service_options(
                service.code,
                **{
                    "sites": [
                        {
                            "code": "ecole-centre",
                            "name": "Groupe scolaire du centre",
                            "capacity": 100,
                        }
                    ]
                },
            ),
        )
        service.refresh_from_db()
        sync_activities()
        active = Activity.objects.filter(service=service, is_active=True)
        assert [(a.site.code, a.default_capacity) for a in active] == [("ecole-centre", 100)]
        assert Activity.objects.filter(service=service, is_active=False).count() == 1


def test_school_year_registration_does_not_cover_the_next_one(family, in_town):
    from core.models import Service

    with in_town(family.commune):
        service = Service.objects.get(code="restauration-scolaire")
        site = Site.objects.get(code="ecole-centre")
        request_registration(child=family.children[0], service=service, school_year=2026, site=site)
        assert (
            request_registration(
                child=family.children[0], service=service, school_year=2027, site=site
            ).school_year_label
            == "2027-2028"
        )


def test_staff_validate_registrations_with_their_documents(
    client, family, in_town, django_capture_on_commit_callbacks
):
    from booking.tests.conftest import login
    from core.models import Service

    lea, hugo = family.children
    with in_town(family.commune):
        service = Service.objects.get(code="alsh-mercredi")
        edit_town_config(
            family.commune,
            service_options(
                service.code,
                **{
                    "registration": "validation",
                    "documents": [{"code": "vaccinations", "label": "Copie des vaccins à jour"}],
                },
            ),
        )
        service.refresh_from_db()
        first = request_registration(
            child=lea,
            service=service,
            school_year=2026,
            documents={"vaccinations": _pdf("vaccins.pdf")},
        )
        second = request_registration(
            child=hugo, service=service, school_year=2026, documents={"vaccinations": _pdf()}
        )
        doc = first.documents.get()
        agent = make_staff(areas=["alsh"])
    login(client, family.commune, agent)
    page = client.get("/castres/alsh/gestion/inscriptions/").content.decode()
    assert "Copie des vaccins à jour" in page and "Hugo" in page
    download = client.get(f"/castres/alsh/gestion/inscriptions/piece/{doc.pk}/")
    assert download["Content-Disposition"].startswith('attachment; filename="vaccins.pdf"')
    assert download["X-Content-Type-Options"] == "nosniff"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/castres/alsh/gestion/inscriptions/", {"inscription": first.pk, "decision": "accept"}
        )
        refused = client.post(
            "/castres/alsh/gestion/inscriptions/",
            {"inscription": second.pk, "decision": "refuse"},
            follow=True,
        )
    assert "Indiquez le motif du refus" in refused.content.decode()
    client.post(
        "/castres/alsh/gestion/inscriptions/",
        {"inscription": second.pk, "decision": "refuse", "message": "Dossier incomplet"},
    )
    with in_town(family.commune):
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.effective_status, second.effective_status) == ("accepted", "refused")
    assert any("validée" in m.subject for m in mail.outbox)
    # A family cannot reach the documents.
    login(client, family.commune, family.user)
    assert client.get(f"/castres/alsh/gestion/inscriptions/piece/{doc.pk}/").status_code == 403


def test_a_single_day_absence_uses_a_stored_document_where_one_is_required(client, family, in_town):
    """Documents deposited once serve everywhere (#23): the one-day report too."""
    import time_machine

    from booking.tests.conftest import login
    from documents.models import Document
    from documents.testing import make_pdf

    with in_town(family.commune):
        booking, service = _booked_day(family, in_town)
        edit_town_config(
            family.commune,
            service_options(service.code, **{"absences": {"justification": "required"}}),
        )
        service.refresh_from_db()
        doc = Document(
            household=family.household,
            kind="certificat_medical",
            title="Certificat de janvier",
            content_type="application/pdf",
            size=10,
            sha256="0" * 64,
        )
        doc.file.save("c.pdf", SimpleUploadedFile("c.pdf", make_pdf()), save=False)
        doc.save()
        other = Document(
            household=family.household,
            kind="livret_famille",
            title="Livret",
            content_type="application/pdf",
            size=10,
            sha256="1" * 64,
        )
        other.file.save("l.pdf", SimpleUploadedFile("l.pdf", make_pdf()), save=False)
        other.save()
        with pytest.raises(BookingRefused, match="pas un justificatif"):
            report_absence(
                booking=booking,
                reason="illness",
                stored_document=other.pk,
                user=family.user,
                now=paris(2027, 3, 15, 9),
            )
    url = f"/castres/periscolaire/absences/signaler/{booking.pk}/"
    with time_machine.travel(paris(2027, 3, 15, 9), tick=False):
        login(client, family.commune, family.user)  # a session of that day
        page = client.get(url).content.decode()
        assert "Certificat de janvier" in page and "Livret" not in page
        missing = client.post(url, {"reason": "illness"})
        assert missing.status_code == 422
        assert "choisissez un document déjà déposé" in missing.content.decode()
        done = client.post(url, {"reason": "illness", "stored_document": str(doc.pk)})
        assert done.status_code == 302
    with in_town(family.commune):
        absence = Absence.objects.get(booking=booking)
        assert absence.justification.name == doc.file.name
        assert absence.justification_name == "Certificat de janvier"
