"""Who pays a booked day: PURE (no ORM, no request).

A child of separated parents belongs to two households (each with its own
representatives, quotient familial and invoices). The town records, per child,
a rule (`models.PayerRule`); `payer_shares()` applies it to one booked day:

- no rule: the child's home household pays (the behaviour before rules);
- "home" (« foyer A uniquement »): household A pays every day;
- "booker" (« le parent qui a réservé »): the household of the parent who
  booked the day; a day booked by staff (or by someone of neither household)
  is paid by household A;
- "alternate_weeks": the week starting on `reference_monday` and every other
  week after (or before) it are household A's, the others household B's;
- "weekdays": the given weekdays (0 = Monday) are household A's, the others B's;
- "split": every day is shared, `percent_a` % for household A, the rest for B.

The result is a tuple of (household id, percent, part): part 0 for a whole
day, 1 and 2 for the shares of a split day (A's and B's), so each share is
billed once (the charge-line constraint includes the part).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

HUNDRED = Decimal(100)
CENT = Decimal("0.01")

HOME = "home"
BOOKER = "booker"
ALTERNATE_WEEKS = "alternate_weeks"
WEEKDAYS = "weekdays"
SPLIT = "split"

KIND_LABELS = {
    HOME: "un seul foyer paie tout",
    BOOKER: "le parent qui a réservé paie le jour",
    ALTERNATE_WEEKS: "une semaine sur deux (garde alternée)",
    WEEKDAYS: "selon les jours de la semaine",
    SPLIT: "partage en pourcentage de chaque jour",
}
WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class Share(NamedTuple):
    household_id: int
    percent: Decimal
    part: int = 0  # 0: the whole day; 1/2: household A's/B's share of a split day


@dataclass(frozen=True)
class Rule:
    kind: str
    household_a: int
    household_b: int | None = None
    weekdays_a: frozenset[int] = frozenset()
    reference_monday: date | None = None
    percent_a: int | None = None


class RuleError(ValueError):
    """A rule that cannot be applied; French message (for staff forms)."""


def check_rule(rule: Rule) -> None:
    """Refuse an incomplete or contradictory rule, in French."""
    if rule.kind not in KIND_LABELS:
        raise RuleError("Règle de paiement inconnue.")
    two = rule.kind in (ALTERNATE_WEEKS, WEEKDAYS, SPLIT, BOOKER)
    if two and rule.kind != BOOKER and rule.household_b is None:
        raise RuleError("Choisissez le second foyer (foyer B).")
    if rule.household_b is not None and rule.household_b == rule.household_a:
        raise RuleError("Les foyers A et B doivent être différents.")
    if rule.kind == ALTERNATE_WEEKS:
        if rule.reference_monday is None:
            raise RuleError("Indiquez un lundi d'une semaine passée chez le foyer A.")
        if rule.reference_monday.weekday() != 0:
            raise RuleError("La semaine de référence doit commencer un lundi.")
    if rule.kind == WEEKDAYS:
        if not rule.weekdays_a or not set(rule.weekdays_a) <= set(range(7)):
            raise RuleError("Cochez au moins un jour de la semaine payé par le foyer A.")
    if rule.kind == SPLIT:
        if rule.percent_a is None or not 1 <= rule.percent_a <= 99:
            raise RuleError("La part du foyer A doit être comprise entre 1 et 99 %.")


def payer_shares(
    rule: Rule | None,
    *,
    day: date,
    home_household: int,
    booked_by_household: int | None = None,
) -> tuple[Share, ...]:
    """Who pays `day` for the child, and how much of it (percent)."""
    if rule is None:
        return (Share(home_household, HUNDRED),)
    a, b = rule.household_a, rule.household_b
    kind = rule.kind
    if kind == HOME or b is None and kind != BOOKER:
        return (Share(a, HUNDRED),)
    if kind == BOOKER:
        if booked_by_household is not None and booked_by_household in (a, b):
            return (Share(booked_by_household, HUNDRED),)
        return (Share(a, HUNDRED),)
    if kind == ALTERNATE_WEEKS:
        weeks = (day - rule.reference_monday).days // 7
        return (Share(a if weeks % 2 == 0 else b, HUNDRED),)
    if kind == WEEKDAYS:
        return (Share(a if day.weekday() in rule.weekdays_a else b, HUNDRED),)
    if kind == SPLIT:
        percent = Decimal(rule.percent_a)
        return (Share(a, percent, 1), Share(b, HUNDRED - percent, 2))
    return (Share(a, HUNDRED),)


def share_amount(amount: Decimal, percent: Decimal) -> Decimal:
    """A household's share of a day's price, to the cent."""
    if percent == HUNDRED:
        return amount
    return (amount * percent / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def describe(rule: Rule | None, names: dict[int, str]) -> str:
    """The rule in one French sentence ("names": household id -> « foyer de Michel »)."""
    if rule is None:
        return "Le foyer où l'enfant est rattaché paie toutes les journées."
    a = names.get(rule.household_a, "le foyer A")
    b = names.get(rule.household_b, "l'autre foyer") if rule.household_b else "l'autre foyer"
    if rule.kind == HOME:
        return f"{_cap(a)} paie toutes les journées."
    if rule.kind == BOOKER:
        return (
            f"Le parent qui réserve une journée la paie (journées réservées par le service : {a})."
        )
    if rule.kind == ALTERNATE_WEEKS:
        return (
            f"Garde alternée : {a} paie la semaine du {rule.reference_monday:%d/%m/%Y} puis une "
            f"semaine sur deux, {b} les autres semaines."
        )
    if rule.kind == WEEKDAYS:
        days = ", ".join(WEEKDAY_NAMES[d] for d in sorted(rule.weekdays_a))
        return f"{_cap(a)} paie le {days} ; {b} les autres jours."
    if rule.kind == SPLIT:
        rest = 100 - rule.percent_a
        return f"Chaque journée est partagée : {rule.percent_a} % pour {a}, {rest} % pour {b}."
    return ""


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
