"""Town staff's workspace (issue #16): staff land on the work queue, whose
counters match the database and follow the person's areas; the staff
navigation holds the staff tools; the family record shows everything in one
place at a constant query count; an agent acts for a family (book and cancel
past the deadline with a reason and an e-mail, absence, registration), each
act in the family's history. Real PostgreSQL, HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from families.testing import login, make_family, make_staff

pytestmark = pytest.mark.django_db

# Days computed from today: tomorrow is always inside Castres' 7-day booking deadline.
TOMORROW = timezone.localdate() + timedelta(days=1)


def _activity(module="periscolaire"):
    from booking.models import Activity
    from core.models import Service

    service = Service.objects.filter(module=module).order_by("code").first()
    activity, _ = Activity.objects.get_or_create(
        service=service, name=f"Activité {module}", defaults={"default_capacity": 30}
    )
    return activity


def _slot(activity, day):
    from booking.models import DaySlot

    return DaySlot.objects.get_or_create(activity=activity, day=day, defaults={"capacity": 30})[0]


@pytest.fixture
def desk(castres):
    fam = make_family(castres, key="appel", last_name="Appel", children=2)
    with tenant_context(castres):
        fam.activity = _activity()
        _slot(fam.activity, TOMORROW)
    agent = make_staff(castres, username="accueil", areas=["periscolaire", "billing", "sante"])
    outsider = make_staff(castres, username="creche-seule", areas=["petite_enfance"])
    fam.agent, fam.client, fam.outsider = agent, Client(), Client()
    login(fam.client, castres, agent)
    login(fam.outsider, castres, outsider)
    fam.record = f"/castres/gestion/familles/{fam.household.pk}/"
    fam.act = fam.record + "agir/"
    return fam


def _outbox(castres, address):
    from notifications.models import OutboxMessage

    with tenant_context(castres):
        return [m for m in OutboxMessage.objects.order_by("id") if address in m.to]


def test_staff_land_on_the_work_queue_after_the_second_factor(castres):
    agent = make_staff(castres, username="arrivee", areas=["alsh"])
    client = Client()
    login(client, castres, agent)
    done = client.get("/castres/compte/double-authentification/code/")
    assert done.status_code == 302 and done["Location"] == "/castres/gestion/"
    home = client.get("/castres/gestion/")
    assert home.status_code == 200 and "Travail à faire" in home.content.decode()


def test_counters_match_the_database_and_follow_the_areas(desk, castres):
    from booking.models import Absence, Booking, Registration

    with tenant_context(castres):
        b = Booking.objects.create(slot=_slot(desk.activity, TOMORROW), child=desk.children[0])
        Absence.objects.create(booking=b, reason="illness")
        Registration.objects.create(
            child=desk.children[1],
            service=desk.activity.service,
            school_year=timezone.localdate().year,
        )
        pending_absences = Absence.objects.filter(
            decision="pending", booking__slot__activity__service__module="periscolaire"
        ).count()
        pending_registrations = Registration.objects.filter(
            status="pending", service__module="periscolaire"
        ).count()
    home = desk.client.get("/castres/gestion/")
    counters = {c.label: c for c in home.context["counters"]}
    absences = next(c for name, c in counters.items() if name.endswith("absences à examiner"))
    assert absences.count == pending_absences and absences.url.endswith("/gestion/absences/")
    registrations = next(c for n, c in counters.items() if n.endswith("inscriptions à valider"))
    assert registrations.count == pending_registrations
    assert "Factures impayées après l'échéance" in counters
    html = home.content.decode()
    assert f'href="{absences.url}"' in html
    # The staff navigation holds the staff tools, not the public module pages.
    assert "/castres/periscolaire/gestion/jour/" in html and "État de régie" in html
    # An agent of another area sees none of these counters nor tools.
    other = desk.outsider.get("/castres/gestion/")
    names = [c.label for c in other.context["counters"]]
    assert not any("périscolaire" in n.lower() or "Factures" in n for n in names)
    assert "État de régie" not in other.content.decode()


def test_book_by_phone_past_the_deadline_with_a_reason_and_the_family_is_told(desk, castres):
    from booking.models import Booking
    from families.models import StaffAction

    child = desk.children[0]
    data = {
        "action": "book",
        "child": child.pk,
        "activity": desk.activity.pk,
        "day": TOMORROW.isoformat(),
    }
    refused = desk.client.post(desk.act, {**data, "reason": ""}, follow=True)
    assert "Indiquez le motif" in refused.content.decode()
    done = desk.client.post(desk.act, {**data, "reason": "Appel du papa"}, follow=True)
    assert done.status_code == 200 and "La famille est prévenue" in done.content.decode()
    with tenant_context(castres):
        booking = Booking.objects.get(child=child, slot__day=TOMORROW, status="booked")
        assert booking.created_by == desk.agent
        [act] = StaffAction.objects.filter(household=desk.household)
        assert act.reason == "Appel du papa" and "hors délai" in act.summary
    [mail] = _outbox(castres, "appel@example.org")
    assert "Réservation hors délai enregistrée par le service" in mail.subject
    assert "Motif : Appel du papa" in mail.body
    # Shown in the family's history on the record.
    record = desk.client.get(desk.record).content.decode()
    assert "Appel du papa" in record and "hors délai" in record
    # Cancelled again past the deadline, with a reason: billed late, e-mailed, recorded.
    desk.client.post(desk.act, {"action": "cancel", "booking": booking.pk, "reason": "Rappel"})
    with tenant_context(castres):
        booking.refresh_from_db()
        assert (booking.status, booking.cancelled_late) == ("cancelled", True)
        assert StaffAction.objects.filter(household=desk.household).count() == 2
    assert len(_outbox(castres, "appel@example.org")) == 2


def test_absence_and_registration_for_the_family(desk, castres):
    from booking.models import Absence, Booking, Registration
    from families.models import StaffAction

    with tenant_context(castres):
        booking = Booking.objects.create(
            slot=_slot(desk.activity, TOMORROW), child=desk.children[0]
        )
        registration = Registration.objects.create(
            child=desk.children[1],
            service=desk.activity.service,
            school_year=timezone.localdate().year,
        )
    desk.client.post(
        desk.act,
        {
            "action": "absence",
            "booking": booking.pk,
            "absence_reason": "illness",
            "comment": "fièvre",
        },
    )
    desk.client.post(desk.act, {"action": "validate", "registration": registration.pk})
    with tenant_context(castres):
        assert Absence.objects.get(booking=booking).reported_by == desk.agent
        registration.refresh_from_db()
        assert registration.status == "accepted"
        actions = set(
            StaffAction.objects.filter(household=desk.household).values_list("action", flat=True)
        )
    assert actions == {"booking.absence", "booking.registration"}


def test_acts_need_the_service_area_and_the_family_own_objects(desk, castres):
    from booking.models import Booking

    data = {
        "action": "book",
        "child": desk.children[0].pk,
        "activity": desk.activity.pk,
        "day": TOMORROW.isoformat(),
        "reason": "Essai",
    }
    desk.outsider.post(desk.act, data)  # a crèche agent: the activity is not offered to them
    stranger = make_family(castres, key="autre-foyer", last_name="Autre", children=1)
    with tenant_context(castres):
        assert not Booking.objects.filter(child=desk.children[0]).exists()
        theirs = Booking.objects.create(
            slot=_slot(desk.activity, TOMORROW), child=stranger.children[0]
        )
    answer = desk.client.post(desk.act, {"action": "cancel", "booking": theirs.pk, "reason": "x"})
    assert answer.status_code == 404
    assert desk.client.post(desk.act, {"action": "rien"}).status_code == 302


def test_family_record_shows_everything_at_a_constant_query_count(desk, castres):
    def count():
        with CaptureQueriesContext(connection) as queries:
            page = desk.client.get(desk.record)
        assert page.status_code == 200
        return len(queries), page.content.decode()

    small, html = count()
    for title in ("Réservations", "Inscriptions", "Factures et paiements", "Documents", "Demandes"):
        assert title in html
    assert "arachide (Appel)" in html  # this agent holds the health area
    with tenant_context(castres):
        from booking.models import Booking, Registration
        from families.models import Child, HealthSheet

        for i in range(4):
            child = Child.objects.create(
                household=desk.household,
                first_name=f"Plus{i}",
                last_name="Appel",
                birth_date=desk.children[0].birth_date,
            )
            child.guardians.add(desk.adult)
            HealthSheet.objects.create(child=child)
            Booking.objects.create(slot=_slot(desk.activity, TOMORROW), child=child)
            Registration.objects.create(
                child=child, service=desk.activity.service, school_year=2026
            )
    bigger, _ = count()
    assert bigger == small


def test_health_on_the_record_only_for_the_health_area(desk, castres):
    from audit.models import AuditEntry

    agent = make_staff(castres, username="sans-sante", areas=["periscolaire"])
    client = Client()
    login(client, castres, agent)
    html = client.get(desk.record).content.decode()
    assert "arachide" not in html and "réservées aux agents habilités" in html
    with tenant_context(castres):
        assert not AuditEntry.objects.filter(action="health.view").exists()
    desk.client.get(desk.record)
    with tenant_context(castres):
        assert (
            AuditEntry.objects.filter(action="health.view", household_id=desk.household.pk).count()
            == 1
        )


def test_staff_see_no_family_link_that_answers_404(desk, castres):
    page = desk.client.get("/castres/billing/").content.decode()
    assert "/castres/billing/factures/" not in page
    assert "/castres/billing/gestion/" in page
