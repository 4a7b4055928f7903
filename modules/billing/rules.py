"""Pure billing rules: invoice status, direct-debit date, fiscal attestation.

No ORM, no request: plain values in, plain values out (tested exhaustively).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .sepa import PRENOTIFICATION_DAYS

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# Service kinds that are childcare ("frais de garde") for the tax credit of
# art. 200 quater B of the French tax code: crèches, before/after-school care
# ("garderie périscolaire") and leisure centres count; meals and homework help
# do not (BOFiP BOI-IR-RICI-300: "les frais de nourriture sont exclus").
CHILDCARE_KINDS = frozenset(
    {
        "creche_reguliere",
        "creche_occasionnelle",
        "accueil_matin",
        "accueil_soir",
        "alsh_mercredi",
        "alsh_vacances",
        "garderie",
        "multi_accueil",
        "accueil_periscolaire",
    }
)


def invoice_status(
    *, kind: str, total: Decimal, paid: Decimal, credited: Decimal, debit_scheduled: bool
) -> str:
    """The status shown to the family (Invoice.Status values)."""
    if kind == "credit":
        return "credit"
    if credited > 0 and credited >= total:
        return "cancelled"
    if total == 0:
        return "nothing_due"
    balance = total - paid - credited
    if balance <= 0:
        return "paid"
    if debit_scheduled:
        return "direct_debit"
    if paid > 0:
        return "partly_paid"
    return "to_pay"


def collection_date(*, due_date: date, notified_on: date, days: int = PRENOTIFICATION_DAYS) -> date:
    """A debit is collected on the due date, but never before the family has
    been told for `days` days (SEPA pre-notification, 14 days by default)."""
    return max(due_date, notified_on + timedelta(days=days))


def under_six_on_january_first(birth_date: date, year: int) -> bool:
    """Tax credit for childcare (CGI art. 200 quater B): children under 6 on
    1 January of the tax year. Born on 1 January N-6: 6 that day, excluded."""
    return birth_date > date(year - 6, 1, 1)


@dataclass(frozen=True)
class PaidInvoice:
    """A payment of year N and the invoice it paid (plain values)."""

    amount: Decimal
    invoice_total: Decimal
    # (child id, service kind, line amount) of the invoice's charge lines
    lines: tuple[tuple[int, str, Decimal], ...]


def childcare_paid(
    payments: Iterable[PaidInvoice],
    *,
    birth_dates: Mapping[int, date],
    year: int,
    childcare_kinds: frozenset[str] = CHILDCARE_KINDS,
) -> dict[int, Decimal]:
    """Childcare costs PAID during `year` per eligible child (under 6).

    A payment pays its invoice's lines in proportion to their amounts (a
    partial payment pays each line partly); the eligible share is rounded to
    the cent at the end, per child.
    """
    exact: dict[int, Decimal] = {}
    for p in payments:
        if p.invoice_total <= 0:
            continue
        ratio = Decimal(p.amount) / Decimal(p.invoice_total)
        for child_id, kind, amount in p.lines:
            birth = birth_dates.get(child_id)
            if birth is None or kind not in childcare_kinds:
                continue
            if not under_six_on_january_first(birth, year):
                continue
            exact[child_id] = exact.get(child_id, Decimal(0)) + Decimal(amount) * ratio
    return {c: v.quantize(CENT, rounding=ROUND_HALF_UP) for c, v in exact.items() if v > 0}


def allocate_oldest_first(
    amount: Decimal, balances: list[Decimal]
) -> tuple[list[Decimal], Decimal]:
    """One payment spread over invoices ordered oldest first: each receives up
    to what is left to pay on it, in order. Returns (shares, surplus): the
    surplus is what no invoice was owed — a second payment of a settled invoice,
    or an invoice settled at the desk meanwhile. It is never put on an invoice;
    the caller keeps it as a credit on the family's account. Shares and surplus
    sum to `amount` exactly (a positive amount); a zero or negative amount
    allocates nothing."""
    if amount <= 0:
        return [Decimal(0)] * len(balances), Decimal(0)
    out, left = [], amount
    for balance in balances:
        share = min(max(balance, Decimal(0)), left)
        out.append(share)
        left -= share
    return out, left
