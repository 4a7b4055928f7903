"""What a town's public home shows beyond its services: its contacts (each
once) and its next key dates (`KeyDate`, contributed by the apps through their
AppConfig's `town_key_dates`: the booking core's registration openings,
reservation periods and deadlines, booking/front_page.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

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
