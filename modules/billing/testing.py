"""Helpers for billing tests (and the benchmark): bookings as facts, committed
rows written from another connection, clean-up through the maintenance path."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta
from types import SimpleNamespace

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from booking.models import Absence, AbsenceDeclaration, Activity, Booking, ChangeSet, DaySlot
from core import town_config
from core.testing import in_own_connection
from families.models import Adult, Child, Household
from notifications.models import OutboxMessage

from . import services
from .lines import previous_month
from .maintenance import purge_household_billing
from .models import Invoice, InvoicingRun


def issue_day() -> date:
    """A day the online-payment window of an invoice issued on it is open now
    (yesterday: Castres opens at 09:30 on the invoice date)."""
    return timezone.localdate() - timedelta(days=1)


def billed_month() -> tuple[int, int]:
    """The month an invoice issued on issue_day() bills."""
    return previous_month(issue_day())


def school_days(year: int, month: int, count: int | None = None) -> list[date]:
    """Mondays, Tuesdays, Thursdays and Fridays of the month."""
    day, days = date(year, month, 1), []
    while day.month == month:
        if day.weekday() in (0, 1, 3, 4):
            days.append(day)
        day += timedelta(days=1)
    return days[:count] if count else days


def activity_for(service_code: str, name: str = "Activité de test"):
    activity, _ = Activity.objects.get_or_create(
        service=town_config.services(codes=[service_code], active=None).get(),
        name=f"{name} ({service_code})",
        defaults={"default_capacity": 100},
    )
    return activity


def book(
    child,
    service_code: str,
    days,
    *,
    status="booked",
    cancelled_late=False,
    attendance="pending",
    absence=None,
    name="Activité de test",
):
    """Bookings of `child` on `days`; absence=(reason, decision) adds an Absence."""

    activity = activity_for(service_code, name)
    bookings = []
    for day in days:
        slot, _ = DaySlot.objects.get_or_create(
            activity=activity, day=day, defaults={"capacity": 100}
        )
        b = Booking.objects.create(
            slot=slot,
            child=child,
            status=status,
            cancelled_late=cancelled_late,
            attendance=attendance,
        )
        if absence:
            Absence.objects.create(booking=b, reason=absence[0], decision=absence[1])
        bookings.append(b)
    return bookings


def purge_households(household_ids) -> None:
    """Delete the committed rows of test households (billing through the
    maintenance path, then bookings, children, adults, users)."""

    ids = list(household_ids)
    # The committed e-mails of these families (notices, receipts): other tests
    # count the outbox rows of their town.
    emails = {
        e for e in Adult.objects.filter(household_id__in=ids).values_list("email", flat=True) if e
    }
    emails |= {
        e
        for e in User.objects.filter(adult__household_id__in=ids).values_list("email", flat=True)
        if e
    }
    if emails:
        match = Q()
        for email in emails:
            match |= Q(to__contains=[email])
        OutboxMessage.objects.filter(match).delete()
    purge_household_billing(ids)
    InvoicingRun.objects.filter(invoices__isnull=True).delete()  # the tests' own runs
    bookings = Booking.objects.filter(child__household_id__in=ids)
    slots = set(bookings.values_list("slot_id", flat=True))
    Absence.objects.filter(booking__in=bookings).delete()
    AbsenceDeclaration.objects.filter(child__household_id__in=ids).delete()
    ChangeSet.objects.filter(household_id__in=ids).delete()
    bookings.delete()
    DaySlot.objects.filter(pk__in=slots, bookings__isnull=True).delete()
    users = list(
        Adult.objects.filter(household_id__in=ids)
        .exclude(user=None)
        .values_list("user_id", flat=True)
    )
    for child in Child.objects.filter(household_id__in=ids):
        child.guardians.clear()
    Child.objects.filter(household_id__in=ids).delete()
    Adult.objects.filter(household_id__in=ids).delete()
    Household.objects.filter(pk__in=ids).delete()
    User.objects.filter(pk__in=users).delete()


@contextmanager
def committed(town, setup, cleanup):
    """Committed rows for a concurrency test: setup() and cleanup() run on
    their own connection; the test's connection only reads."""
    value = in_own_connection(town, setup)
    try:
        connection.set_tenant(town)
        yield value
    finally:
        in_own_connection(town, lambda: cleanup(value))
        connection.set_tenant(town)


def make_invoiced_family(
    commune,
    *,
    last_name="Martin",
    email=None,
    service="restauration-scolaire",
    days=3,
    birth_date=None,
    city=None,
    run=True,
):
    """A family account (user, household, adult, one child) with `days`
    bookings in billed_month(), invoiced on issue_day() when `run`. Call
    inside the town's schema."""

    key = f"{last_name.lower()}-{commune.slug}"
    user = User.objects.create_user(
        username=key,
        email=email or f"{key}@example.org",
        password="mot-de-passe-de-test-assez-long",
        role=User.Role.FAMILY,
        first_name="Alex",
        last_name=last_name,
    )
    household = Household.objects.create(
        name=f"Famille {last_name}",
        address_line="1 rue Haute",
        postcode="81100",
        city=city or commune.name,
    )
    adult = Adult.objects.create(
        household=household, user=user, first_name="Alex", last_name=last_name, email=user.email
    )
    child = Child.objects.create(
        household=household,
        first_name="Camille",
        last_name=last_name,
        # Eight on the test clock's today: no age limit is crossed by the calendar.
        birth_date=birth_date or date(timezone.localdate().year - 8, 5, 14),
    )
    child.guardians.add(adult)
    year, month = billed_month()
    bookings = book(child, service, school_days(year, month, count=days))
    invoice = None
    if run:
        result = services.run_month(
            commune=commune, year=year, month=month, today=issue_day(), notify=False
        )

        invoice = Invoice.objects.get(household=household, year=year, month=month)
        assert result.invoices >= 1
    return SimpleNamespace(
        commune=commune,
        user=user,
        household=household,
        adult=adult,
        child=child,
        bookings=bookings,
        invoice=invoice,
    )
