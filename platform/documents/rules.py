"""Pure rules of supporting documents: no ORM, no request; plain values in and out.

Tested exhaustively in documents/tests/test_rules.py (tables + hypothesis).
"""

from __future__ import annotations

import calendar
import datetime as dt

# Families are reminded this many days before a document expires (and once only
# per expiry date). A document expired longer ago than this is not reminded:
# it has usually been replaced.
REMINDER_DAYS = 30


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_valid_until(kind: str, issued_on: dt.date | None) -> dt.date | None:
    """Until when a document of this kind is accepted, from the date it was issued.

    None: no expiry (vaccination record, livret de famille...) or unknown issue date.
    """
    if issued_on is None:
        return None
    if kind == "justificatif_domicile":
        # Donges's guide: "justificatif de domicile récent (de moins de 3 mois)".
        return add_months(issued_on, 3)
    if kind == "attestation_rc":
        # Insurers issue the school civil-liability certificate per school year:
        # valid until the 31 August that ends the school year it was issued in.
        end = dt.date(issued_on.year, 8, 31)
        return end if issued_on <= end else dt.date(issued_on.year + 1, 8, 31)
    if kind == "avis_imposition":
        # The notice received in year N is the latest one until the next, in N+1.
        return dt.date(issued_on.year + 1, 12, 31)
    if kind == "attestation_caf":
        # DEFAULT: CAF recomputes the quotient familial every January.
        return dt.date(issued_on.year, 12, 31)
    if kind == "certificat_medical":
        return add_months(issued_on, 12) - dt.timedelta(days=1)
    return None


def expiry_state(valid_until: dt.date | None, today: dt.date) -> str:
    """ "none" (no expiry), "valid", "expiring" (within REMINDER_DAYS) or "expired"."""
    if valid_until is None:
        return "none"
    if valid_until < today:
        return "expired"
    if (valid_until - today).days <= REMINDER_DAYS:
        return "expiring"
    return "valid"


def reminder_due(
    *,
    valid_until: dt.date | None,
    today: dt.date,
    status: str,
    reminded_for: dt.date | None,
    superseded: bool = False,
) -> bool:
    """Whether the expiry reminder e-mail must be sent today."""
    if valid_until is None or status == "rejected" or superseded or reminded_for == valid_until:
        return False
    days_left = (valid_until - today).days
    return -REMINDER_DAYS <= days_left <= REMINDER_DAYS


def quota_allows(*, used: int, incoming: int, quota: int) -> bool:
    return used + incoming <= quota
