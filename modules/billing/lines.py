"""From booking facts to invoice drafts: PURE (no ORM, no request).

The monthly run (services.run_month) reads plain facts (selectors), calls
`build_drafts()`, then writes the drafts in bulk. Everything a family is billed
is decided here, with `pricing.price_session()`: the same function as the
public simulator.

What a booking costs (the towns' rules, set per tariff in the YAML):
- booked, present or not yet checked ("non pointé"): billed in full;
- cancelled in time: not billed (and not even listed);
- cancelled late ("hors délai", allowed by staff): late-cancellation percent;
- absent with no reported absence, or an absence judged unjustified:
  unjustified-absence percent;
- absence justified by illness: the first `carence_days` calendar days of the
  illness are billed like an unjustified absence ("jour de carence"), then free;
- other justified absence: free (listed at 0,00 € so the family sees it);
- absence reported but not yet examined by staff: NOT billed now; the booking
  waits for the decision and goes on a later invoice (never billed twice: see
  the unique constraint on charge lines).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from .payer_rules import HUNDRED, KIND_LABELS, Rule, payer_shares, share_amount
from .pricing import Attendance, BillingSettings, PriceLine, PricingError, price_session
from .town_settings import InvoicingSettings, Regie

# Two illness absences of a child at most this many calendar days apart belong
# to the same illness (Friday -> Monday is 3): the carence is counted once.
ILLNESS_CHAIN_DAYS = 3
DEFER = "defer"  # attendance marker: wait for the staff's decision


class BookingFact(NamedTuple):
    # A named tuple, not a dataclass: the run builds 10^5-10^6 of them (3x faster).
    booking_id: int
    child_id: int
    household_id: int
    child_name: str
    child_birth_date: date
    service_code: str
    service_name: str
    day: date
    status: str  # booking.Booking.Status: "booked" | "cancelled"
    cancelled_late: bool = False
    attendance: str = "pending"  # "pending" | "present" | "absent"
    absence_reason: str | None = None  # "illness" | "family" | "other"
    absence_decision: str | None = None  # "pending" | "justified" | "unjustified"
    # The household of the parent who booked (None: booked by staff).
    booked_by_household_id: int | None = None
    # After payer_rules: the share of the day `household_id` pays (a split day
    # is two facts, parts 1 and 2; a whole day is part 0 at 100 %).
    share: Decimal = Decimal(100)
    share_part: int = 0
    payer_note: str = ""  # why this household pays the day (the child's payer rule)


@dataclass(frozen=True)
class HouseholdFacts:
    household_id: int
    qf: int | None  # quotient familial in euros; None: not given (highest price)
    resident: bool = True


class DraftLine(NamedTuple):
    booking_id: int
    child_id: int
    child_name: str
    service_code: str
    service_name: str
    day: date
    quantity: Decimal
    unit: str
    attendance: str
    billed_percent: Decimal
    amount: Decimal
    explanation: str
    share_part: int = 0


@dataclass
class DraftInvoice:
    household_id: int
    regie: Regie
    lines: list[DraftLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


@dataclass
class BuildResult:
    drafts: list[DraftInvoice]
    deferred: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)


def billing_attendance(fact: BookingFact) -> Attendance | str | None:
    """How a booking is priced; DEFER while an absence awaits a decision;
    None when it is not billable at all (cancelled in time)."""
    if fact.status == "cancelled":
        return Attendance.LATE_CANCELLATION if fact.cancelled_late else None
    if fact.attendance == "present":
        return Attendance.BOOKED  # an absence was reported, yet the child came
    if fact.absence_decision is not None:
        if fact.absence_decision == "pending":
            return DEFER
        if fact.absence_decision == "unjustified":
            return Attendance.UNJUSTIFIED_ABSENCE
        if fact.absence_reason == "illness":
            return Attendance.ILLNESS
        return Attendance.JUSTIFIED_ABSENCE
    if fact.attendance == "absent":
        return Attendance.UNJUSTIFIED_ABSENCE
    return Attendance.BOOKED


def illness_starts(illness_days: Iterable[tuple[int, date]]) -> dict[tuple[int, date], date]:
    """(child, day of an illness absence) -> first day of that illness.

    illness_days: every illness absence of the children concerned, including
    the weeks before the billed month (an illness may start in October and
    go on in November: its carence days were October's).
    """
    by_child: dict[int, set[date]] = defaultdict(set)
    for child_id, day in illness_days:
        by_child[child_id].add(day)
    starts = {}
    for child_id, days in by_child.items():
        start = previous = None
        for day in sorted(days):
            if previous is None or (day - previous).days > ILLNESS_CHAIN_DAYS:
                start = day
            starts[(child_id, day)] = start
            previous = day
    return starts


def child_ranks(facts: Iterable[BookingFact]) -> dict[tuple[int, str, int], int]:
    """(household, service, child) -> rank among the household's children
    billed for that service, eldest first (sibling reductions)."""
    children: dict[tuple[int, str], dict[int, date]] = defaultdict(dict)
    for f in facts:
        children[(f.household_id, f.service_code)][f.child_id] = f.child_birth_date
    ranks = {}
    for (household, service), kids in children.items():
        ordered = sorted(kids, key=lambda c: (kids[c], c))
        for rank, child in enumerate(ordered, start=1):
            ranks[(household, service, child)] = rank
    return ranks


def assign_payers(facts: Iterable[BookingFact], rules: Mapping[int, Rule]) -> list[BookingFact]:
    """Each fact with the household that pays it (payer_rules): `household_id`
    becomes the payer household; a split day becomes one fact per share."""
    out = []
    for fact in facts:
        rule = rules.get(fact.child_id)
        if rule is None:
            out.append(fact)
            continue
        for share in payer_shares(
            rule,
            day=fact.day,
            home_household=fact.household_id,
            booked_by_household=fact.booked_by_household_id,
        ):
            out.append(
                fact._replace(
                    household_id=share.household_id,
                    share=share.percent,
                    share_part=share.part,
                    payer_note=f"payé par votre foyer (garde partagée : {KIND_LABELS[rule.kind]})",
                )
            )
    return out


def build_drafts(
    facts: Iterable[BookingFact],
    *,
    households: Mapping[int, HouseholdFacts],
    tariffs: BillingSettings,
    invoicing: InvoicingSettings,
    illness_days: Iterable[tuple[int, date]] = (),
    quantities: Mapping[str, Decimal] | None = None,
) -> BuildResult:
    """Price every billable booking and group the lines per household and
    régie. Lines are ordered by child, date and service."""
    quantities = quantities or {}
    result = BuildResult(drafts=[])
    billable: list[tuple[BookingFact, Attendance]] = []
    for fact in facts:
        attendance = billing_attendance(fact)
        if attendance is None:
            continue
        if attendance == DEFER:
            result.deferred += 1
            continue
        billable.append((fact, attendance))

    ranks = child_ranks(f for f, _ in billable)
    starts = illness_starts(illness_days)
    cache: dict[tuple, PriceLine] = {}
    versions: dict[tuple[str, date], tuple] = {}
    missing: dict[str, int] = defaultdict(int)
    drafts: dict[tuple[int, str], DraftInvoice] = {}
    regies: dict[str, Regie] = {}

    for fact, attendance in billable:
        household = households.get(fact.household_id)
        found = versions.get((fact.service_code, fact.day))
        if found is None:
            try:
                tariff = tariffs.tariff(fact.service_code)
                found = versions[(fact.service_code, fact.day)] = (
                    tariff,
                    tariff.version_on(fact.day),
                )
            except PricingError:
                missing[fact.service_name] += 1
                continue
        tariff, version = found
        if household is None:
            result.skipped += 1
            continue
        rank = ranks[(fact.household_id, fact.service_code, fact.child_id)]
        quantity = quantities.get(fact.service_code, Decimal(1))
        if attendance is Attendance.ILLNESS:
            start = starts.get((fact.child_id, fact.day), fact.day)
            line = price_session(
                tariff,
                day=fact.day,
                qf=household.qf,
                child_rank=rank,
                resident=household.resident,
                attendance=attendance,
                illness_start=start,
                quantity=quantity,
            )
        else:
            # The price depends on the day only through the version in force:
            # one computation per distinct situation (the run prices 10^5 lines).
            key = (
                fact.service_code,
                version.applies_from,
                household.qf,
                rank,
                household.resident,
                attendance,
                quantity,
            )
            line = cache.get(key)
            if line is None:
                line = cache[key] = price_session(
                    tariff,
                    day=fact.day,
                    qf=household.qf,
                    child_rank=rank,
                    resident=household.resident,
                    attendance=attendance,
                    quantity=quantity,
                )
        regie = regies.get(fact.service_code)
        if regie is None:
            regie = regies[fact.service_code] = invoicing.regie_for(fact.service_code)
        draft = drafts.get((fact.household_id, regie.code))
        if draft is None:
            draft = drafts[(fact.household_id, regie.code)] = DraftInvoice(fact.household_id, regie)
        billed_percent, amount, explanation = line.billed_percent, line.amount, line.explanation
        if fact.share != HUNDRED:
            billed_percent = (billed_percent * fact.share / HUNDRED).quantize(Decimal("0.01"))
            amount = share_amount(amount, fact.share)
            explanation = f"{explanation} ; part de votre foyer : {fact.share:f} %"
        if fact.payer_note:
            explanation = f"{explanation} ; {fact.payer_note}"
        draft.lines.append(
            DraftLine(
                booking_id=fact.booking_id,
                child_id=fact.child_id,
                child_name=fact.child_name,
                service_code=fact.service_code,
                service_name=fact.service_name,
                day=fact.day,
                quantity=line.quantity,
                unit=line.unit,
                attendance=str(attendance),
                billed_percent=billed_percent,
                amount=amount,
                explanation=explanation,
                share_part=fact.share_part,
            )
        )
    for name, count in sorted(missing.items()):
        result.skipped += count
        result.problems.append(
            f"« {name} » : aucun tarif en vigueur, {count} réservation"
            f"{'s' if count > 1 else ''} non facturée{'s' if count > 1 else ''}."
        )
    if result.skipped - sum(missing.values()):
        n = result.skipped - sum(missing.values())
        result.problems.append(f"{n} réservation{'s' if n > 1 else ''} sans foyer payeur connu.")
    for draft in drafts.values():
        draft.lines.sort(
            key=lambda line: (line.child_name, line.day, line.service_name, line.booking_id)
        )
    result.drafts = sorted(drafts.values(), key=lambda d: (d.household_id, d.regie.code))
    return result


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def previous_month(day: date) -> tuple[int, int]:
    first = day.replace(day=1) - timedelta(days=1)
    return first.year, first.month
