"""The booking core's key dates on a town's public home (core.views.town_home,
through BookingConfig's `town_key_dates` hook): the next reservation periods,
the next registration opening, each service's reservation deadline rule."""

from __future__ import annotations

from datetime import date, datetime

from booking.deadlines import DeadlineConfigError, describe_rule
from booking.models import ReservationPeriod
from booking.rules import school_year_of
from booking.selectors import rules_for
from core.front_page import KeyDate


def registration_date(today: date) -> KeyDate:
    """Registrations for the next school year open on 1 May (booking's default)."""
    coming = school_year_of(today) + 1
    if today.month < 5 or today.month >= 9:
        year = today.year if today.month < 5 else today.year + 1
        return KeyDate(date(year, 5, 1), f"Ouverture des inscriptions {coming}-{coming + 1}")
    return KeyDate(None, f"Inscriptions {coming}-{coming + 1} ouvertes : inscrivez vos enfants")


def key_dates(now: datetime, today: date, services) -> list[KeyDate]:
    """The next reservation periods (opening or closing), the next registration
    opening, then each service's reservation deadline rule."""
    dates: list[KeyDate] = []
    for period in ReservationPeriod.objects.filter(closes_at__gte=now).order_by("opens_at")[:3]:
        name = period.label or "période de réservation"
        if period.opens_at > now:
            dates.append(KeyDate(period.opens_at.date(), f"Ouverture des réservations : {name}"))
        else:
            dates.append(KeyDate(period.closes_at.date(), f"Fin des réservations : {name}"))
    dates.append(registration_date(today))
    dates.sort(key=lambda d: d.day or today)
    rules: dict[str, list[str]] = {}  # one line per rule, naming its services
    for service in services:
        try:
            rule = describe_rule(rules_for(service).booking)
        except (DeadlineConfigError, TypeError):  # a service without deadlines
            continue
        rules.setdefault(rule, []).append(service.name)
    for rule, names in rules.items():
        dates.append(KeyDate(None, f"{', '.join(names)} : réservation {rule}"))
    return dates
