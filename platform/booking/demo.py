"""Demo rows of a booking module (`manage.py rundemo` calls each enabled
module's `load_demo_data`): opened days from the start of the month before
last to the coming weeks, open reservation periods, this school year's
registrations, past and future bookings (Mondays, Wednesdays, Thursdays) and one
absence for the demo families.

Everything is computed from today, and every run tops the demo up for the
day it runs on (a demo database made in December still has bookable days,
registrations and open periods in July). Families: families.demo's households
(README's Martin family included); otherwise one fictitious family per town,
made here. A second run on the same day adds nothing.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from booking import selectors
from booking.absences import report_absence as report
from booking.catalogue import activity_day_kinds, is_hourly
from booking.french import PARIS
from booking.holidays_fr import SchoolCalendarUnavailable
from booking.models import Absence, Activity, Booking, Registration, ReservationPeriod
from booking.rules import school_year_of
from booking.selectors import town_calendar
from booking.services import BookingRefused, book_days, open_days
from core import town_config
from families.demo import born as born_on
from families.demo import demo_households
from families.models import Adult, Child, Household

DEMO_PASSWORD = "demo-famille-2026"  # demo only (as families.demo), printed in README.md
OWN_FAMILY = "Famille Exemple (démo réservations)"
WEEKS = 9
BOOKED_WEEKDAYS = (0, 2, 3)  # Mondays, Wednesdays (ALSH) and Thursdays


def first_demo_day(today: datetime.date) -> datetime.date:
    """The first day of the month before last: billing's demo invoices the two
    months before yesterday's (modules/billing/demo.py), from these bookings."""
    month = today.month - 2 if today.day > 1 else today.month - 3
    year = today.year
    while month < 1:
        month += 12
        year -= 1
    return datetime.date(year, month, 1)


@transaction.atomic
def load_module_demo(commune, module_code: str) -> None:
    services = list(town_config.services(module=module_code))
    if not services:
        return
    today = timezone.now().astimezone(PARIS).date()
    calendar = town_calendar()
    activities = list(
        Activity.objects.filter(service__in=services, is_active=True).select_related(
            "service", "site"
        )
    )
    if calendar is not None:
        for activity in activities:
            try:
                open_days(
                    activity=activity,
                    calendar=calendar,
                    start=first_demo_day(today),
                    end=today + datetime.timedelta(weeks=WEEKS),
                    kinds=activity_day_kinds(activity),
                )
            except SchoolCalendarUnavailable:  # beyond the offline school calendar
                break
    if module_code == "alsh":
        _summer_period(today, [s for s in services if s.kind == "alsh_vacances"])
        _demo_opening(today, [s for s in services if s.kind == "alsh_vacances"])
    windowed = [s for s in services if (s.deadlines or {}).get("windows_only")]
    if windowed:  # Bassens: bookings only during published periods
        _open_period(today, module_code, windowed)
    children = _demo_children(commune, module_code)
    # Registered for every school year the booked days fall in (from July, the
    # coming one too: September's days are bookable in summer).
    years = sorted({school_year_of(today), school_year_of(today + datetime.timedelta(weeks=WEEKS))})
    past = [
        first_demo_day(today) + datetime.timedelta(days=i)
        for i in range((today - first_demo_day(today)).days)
    ]
    coming = [today + datetime.timedelta(days=i) for i in range(1, 15)]
    days = [d for d in past + coming if d.weekday() in BOOKED_WEEKDAYS]
    for service in services:
        service_activities = [a for a in activities if a.service_id == service.pk]
        if not service_activities or service.kind == "creche_reguliere":
            continue
        site = service_activities[0].site
        for child in children:
            if (today - child.birth_date).days < 365 * 3 and service.module != "petite_enfance":
                continue
            if (today - child.birth_date).days >= 365 * 4 and service.module == "petite_enfance":
                continue
            for year in years:
                Registration.objects.get_or_create(
                    child=child,
                    service=service,
                    school_year=year,
                    status=Registration.Status.ACCEPTED,
                    defaults={"site": site},
                )
            # Booked days, past and coming (morning hours only for occasional
            # crèche care); days already booked stay as they are.
            for activity in service_activities:
                if activity.site_id != (site.pk if site else None):
                    continue
                if is_hourly(service) and not (
                    activity.starts_at
                    and activity.starts_at.hour < 11
                    and activity.starts_at.hour >= 9
                ):
                    continue
                book_days(child=child, activity=activity, days=days, staff=True)
    _absence(children, [s for s in services if s.kind != "creche_reguliere"])


def _absence(children, services) -> None:
    """One absence (illness) on a recent booked day of each demo household's
    eldest child, reported through the booking service when its rules allow
    it, else recorded as the family would have reported it."""
    by_household = {}
    for child in children:
        by_household.setdefault(child.household_id, child)
    for child in by_household.values():
        bookings = Booking.objects.filter(
            child=child, status=Booking.Status.BOOKED, slot__activity__service__in=services
        )
        if Absence.objects.filter(booking__child__household_id=child.household_id).exists():
            continue
        booking = bookings.filter(slot__day__lt=timezone.localdate()).order_by("-slot__day").first()
        if booking is None:
            continue
        user = child.household.adults.exclude(user=None).values_list("user", flat=True).first()
        try:
            report_absence(booking=booking, reason=Absence.Reason.ILLNESS, user_id=user)
        except BookingRefused:
            Absence.objects.create(
                booking=booking,
                reason=Absence.Reason.ILLNESS,
                comment="Fièvre (démonstration).",
                reported_by_id=user,
            )


def report_absence(*, booking, reason, user_id) -> None:
    report(
        booking=booking,
        reason=reason,
        comment="Fièvre (démonstration).",
        user=User.objects.filter(pk=user_id).first(),
    )


def _summer_period(today, services) -> None:
    """ "Summer bookings open on 1 May at 08:30 and close on 15 June" (a default,
    not from a guide); during the summer itself the demo keeps them open until
    a week before the last day, so July and August show bookable days."""
    year = today.year if today.month < 9 else today.year + 1
    label = f"Réservations de l'été {year}"
    closes = datetime.datetime(year, 6, 15, 23, 59, tzinfo=PARIS)
    if today > closes.date():
        closes = datetime.datetime(year, 8, 24, 23, 59, tzinfo=PARIS)
    period, created = ReservationPeriod.objects.get_or_create(
        label=label,
        defaults={
            "opens_at": datetime.datetime(year, 5, 1, 8, 30, tzinfo=PARIS),
            "closes_at": closes,
            "first_day": datetime.date(year, 7, 1),
            "last_day": datetime.date(year, 8, 31),
        },
    )
    if created:
        period.services.set(services)
    elif period.closes_at < closes:
        ReservationPeriod.objects.filter(pk=period.pk).update(closes_at=closes)
        selectors.booking_data_changed()  # a queryset update sends no signal


def _demo_opening(today, services) -> None:
    """An opening with its waiting room, tomorrow at 08:30, for the autumn
    holidays a year ahead (/<town>/file-attente/<id>/ shows the queue; staff
    follow it from the catalogue). Moved to the next day when the demo runs again."""
    label = "Ouverture des vacances d'automne (démo, salle d'attente)"
    opens = datetime.datetime.combine(
        today + datetime.timedelta(days=1), datetime.time(8, 30), tzinfo=PARIS
    )
    year = today.year + 1
    period = ReservationPeriod.objects.filter(label=label).first()
    if period is None:
        period = ReservationPeriod.objects.create(
            label=label,
            opens_at=opens,
            closes_at=opens + datetime.timedelta(days=30),
            first_day=datetime.date(year, 10, 19),
            last_day=datetime.date(year, 10, 30),
            waiting_room=True,
        )
        period.services.set(services)
    elif period.opens_at < opens - datetime.timedelta(days=1):
        ReservationPeriod.objects.filter(pk=period.pk).update(
            opens_at=opens, closes_at=opens + datetime.timedelta(days=30)
        )
        selectors.booking_data_changed()  # a queryset update sends no signal


def _open_period(today, module_code, services) -> None:
    """A reservation period open from yesterday for 60 days (moved forward when
    the demo runs again after it closed)."""
    label = f"Période de réservation ({module_code}, démo)"
    opens = datetime.datetime.combine(
        today - datetime.timedelta(days=1), datetime.time(8, 30), tzinfo=PARIS
    )
    closes = datetime.datetime.combine(
        today + datetime.timedelta(days=60), datetime.time(23, 59), tzinfo=PARIS
    )
    period = ReservationPeriod.objects.filter(label=label).first()
    if period is None:
        period = ReservationPeriod.objects.create(label=label, opens_at=opens, closes_at=closes)
        period.services.set(services)
    elif period.closes_at < closes - datetime.timedelta(days=30) or period.opens_at > opens:
        ReservationPeriod.objects.filter(pk=period.pk).update(opens_at=opens, closes_at=closes)
        selectors.booking_data_changed()  # a queryset update sends no signal


def _demo_children(commune, module_code) -> list:
    households = demo_households()
    if not households:
        households = [_own_family(commune)]
    children = list(Child.objects.filter(household__in=households).order_by("id"))
    if module_code == "petite_enfance" and not any(
        (timezone.localdate() - c.birth_date).days < 365 * 3 for c in children
    ):
        children.append(_baby(households[0]))
    return children


def _own_family(commune):
    household = Household.objects.filter(name=OWN_FAMILY).first()
    if household is not None:
        return household
    household = Household.objects.create(
        name=OWN_FAMILY, address_line="1 place de la Mairie", postcode="00000", city=commune.name
    )
    user = User.objects.filter(
        username=f"famille-demo-{commune.slug}"
    ).first() or User.objects.create_user(
        username=f"famille-demo-{commune.slug}",
        email=f"famille.demo@{commune.slug}.example",
        password=DEMO_PASSWORD,
        first_name="Alex",
        last_name="Exemple",
    )
    adult = Adult.objects.create(
        household=household, user=user, first_name="Alex", last_name="Exemple", email=user.email
    )

    for first, born in (("Camille", born_on(9, 4, 12)), ("Sacha", born_on(7, 9, 3))):
        Child.objects.create(
            household=household, first_name=first, last_name="Exemple", birth_date=born
        ).guardians.add(adult)
    return household


def _baby(household):
    existing = Child.objects.filter(household=household, first_name="Noé").first()
    if existing:
        return existing
    child = Child.objects.create(
        household=household,
        first_name="Noé",
        last_name=household.name.split()[1] if " " in household.name else "Exemple",
        birth_date=timezone.localdate() - datetime.timedelta(days=400),
    )
    child.guardians.add(*household.adults.all())
    return child
