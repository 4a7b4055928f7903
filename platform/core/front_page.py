"""What a town's public home shows beyond its services: its contacts (each
once) and its next key dates (registration openings, reservation periods and
deadlines)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

_QUALIFIER = re.compile(r"\s*\([^)]*\)\s*$")  # « Espace Famille (autres lignes) »


@dataclass
class ContactCard:
    label: str
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    address: str = ""
    hours: str = ""


def merged_contacts(contacts) -> list[ContactCard]:
    """One card per desk: rows naming the same desk (same label once its
    parenthesis is dropped) are merged, their phones and e-mails listed once.
    Pure: any objects with label, phone, email, address, hours."""
    cards: dict[str, ContactCard] = {}
    for c in contacts:
        label = _QUALIFIER.sub("", c.label).strip() or c.label
        card = cards.setdefault(label.casefold(), ContactCard(label=label))
        if c.phone and c.phone not in card.phones:
            card.phones.append(c.phone)
        if c.email and c.email not in card.emails:
            card.emails.append(c.email)
        card.address = card.address or c.address
        card.hours = card.hours or c.hours
    return list(cards.values())


@dataclass(frozen=True)
class KeyDate:
    day: date | None  # None: a standing rule (a reservation deadline)
    label: str


def registration_date(today: date) -> KeyDate:
    """Registrations for the next school year open on 1 May (booking's default)."""
    from booking.rules import school_year_of

    coming = school_year_of(today) + 1
    if today.month < 5 or today.month >= 9:
        year = today.year if today.month < 5 else today.year + 1
        return KeyDate(date(year, 5, 1), f"Ouverture des inscriptions {coming}-{coming + 1}")
    return KeyDate(None, f"Inscriptions {coming}-{coming + 1} ouvertes : inscrivez vos enfants")


def key_dates(now: datetime, today: date, services) -> list[KeyDate]:
    """The next reservation periods (opening or closing), the next registration
    opening, then each service's reservation deadline rule."""
    from booking.deadlines import describe_rule
    from booking.models import ReservationPeriod
    from booking.selectors import rules_for

    dates: list[KeyDate] = []
    for period in ReservationPeriod.objects.filter(closes_at__gte=now).order_by("opens_at")[:3]:
        name = period.label or "période de réservation"
        if period.opens_at > now:
            dates.append(KeyDate(period.opens_at.date(), f"Ouverture des réservations : {name}"))
        else:
            dates.append(KeyDate(period.closes_at.date(), f"Fin des réservations : {name}"))
    dates.append(registration_date(today))
    dates.sort(key=lambda d: d.day or today)
    for service in services:
        try:
            rule = describe_rule(rules_for(service).booking)
        except Exception:  # a service without deadlines (validated at onboarding)
            continue
        dates.append(KeyDate(None, f"{service.name} : réservation {rule}"))
    return dates
