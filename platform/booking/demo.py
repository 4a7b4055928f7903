"""Demo rows of a booking module (`manage.py rundemo` calls each enabled
module's `load_demo_data`): opened days for the coming weeks, a summer
reservation period, registrations and a few bookings for the demo families.

Families: the households' demo ("… [démo]") when present; otherwise one
fictitious family per town, made here. Idempotent: a second run adds nothing.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from booking.catalogue import activity_day_kinds, is_hourly
from booking.french import PARIS
from booking.holidays_fr import SchoolCalendarUnavailable
from booking.models import Activity, Registration, ReservationPeriod
from booking.rules import school_year_of
from booking.selectors import town_calendar
from booking.services import book_days, open_days

DEMO_PASSWORD = "demo-famille-2026"  # demo only (as families.demo)
OWN_FAMILY = "Famille Exemple (démo réservations)"
WEEKS = 9


@transaction.atomic
def load_module_demo(commune, module_code: str) -> None:
    from core.models import Service

    services = list(Service.objects.filter(module=module_code, is_active=True))
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
                    start=today - datetime.timedelta(days=7),
                    end=today + datetime.timedelta(weeks=WEEKS),
                    kinds=activity_day_kinds(activity),
                )
            except SchoolCalendarUnavailable:  # beyond the offline school calendar
                break
    if module_code == "alsh":
        _summer_period(today, [s for s in services if s.kind == "alsh_vacances"])
    windowed = [s for s in services if (s.deadlines or {}).get("windows_only")]
    if windowed:  # Bassens: bookings only during published periods
        _open_period(today, module_code, windowed)
    children = _demo_children(commune, module_code)
    year = school_year_of(today)
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
            reg, created = Registration.objects.get_or_create(
                child=child,
                service=service,
                school_year=year,
                status=Registration.Status.ACCEPTED,
                defaults={"site": site},
            )
            if not created:
                continue
            # A few booked days: Mondays and Thursdays of the next two weeks
            # (morning hours only for occasional crèche care).
            days = [today + datetime.timedelta(days=i) for i in range(1, 15)]
            days = [d for d in days if d.weekday() in (0, 3)]
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


def _summer_period(today, services) -> None:
    """ "Summer bookings open on 1 May at 08:30" (a default, not from a guide)."""
    year = today.year if today.month < 9 else today.year + 1
    label = f"Réservations de l'été {year}"
    if ReservationPeriod.objects.filter(label=label).exists():
        return
    period = ReservationPeriod.objects.create(
        label=label,
        opens_at=datetime.datetime(year, 5, 1, 8, 30, tzinfo=PARIS),
        closes_at=datetime.datetime(year, 6, 15, 23, 59, tzinfo=PARIS),
        first_day=datetime.date(year, 7, 1),
        last_day=datetime.date(year, 8, 31),
    )
    period.services.set(services)


def _open_period(today, module_code, services) -> None:
    label = f"Période de réservation ({module_code}, démo)"
    if ReservationPeriod.objects.filter(label=label).exists():
        return
    period = ReservationPeriod.objects.create(
        label=label,
        opens_at=datetime.datetime.combine(
            today - datetime.timedelta(days=1), datetime.time(8, 30), tzinfo=PARIS
        ),
        closes_at=datetime.datetime.combine(
            today + datetime.timedelta(days=60), datetime.time(23, 59), tzinfo=PARIS
        ),
    )
    period.services.set(services)


def _demo_children(commune, module_code) -> list:
    from families.models import Child, Household

    households = list(Household.objects.filter(name__endswith="[démo]"))
    if not households:
        households = [_own_family(commune)]
    children = list(Child.objects.filter(household__in=households).order_by("id"))
    if module_code == "petite_enfance" and not any(
        (timezone.localdate() - c.birth_date).days < 365 * 3 for c in children
    ):
        children.append(_baby(households[0]))
    return children


def _own_family(commune):
    from accounts.models import User
    from families.models import Adult, Child, Household

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
    for first, born in (
        ("Camille", datetime.date(2017, 4, 12)),
        ("Sacha", datetime.date(2019, 9, 3)),
    ):
        Child.objects.create(
            household=household, first_name=first, last_name="Exemple", birth_date=born
        ).guardians.add(adult)
    return household


def _baby(household):
    from families.models import Child

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
