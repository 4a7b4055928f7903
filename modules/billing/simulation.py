"""What the tariff simulator's monthly total counts: only what ONE child can
attend.

- The child is either a school child (school restaurant, before/after-school
  care, études, leisure centres...) or a young child not at school yet
  (crèche, multi-accueil): the total never adds crèche hours for a school
  child, nor the canteen for a baby. The crèche formulas of a town (regular
  place, occasional care) are alternatives: the total counts one of them.
- A day-priced service counts the days it is OPEN in the simulated month (the
  town's calendar: school days, Wednesdays or holidays as the service runs,
  minus public holidays and the town's closures), not a typical figure.
  Hourly care (crèche) keeps the town's typical hours per month
  (`sessions_per_month` in its YAML): its hours are a contract's.

`counted_services()` is pure; `simulation_inputs()` reads the town's
services, activities and calendar (three queries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from booking.catalogue import activity_day_kinds, is_hourly
from booking.holidays_fr import SchoolCalendarUnavailable
from booking.models import Activity
from booking.selectors import town_calendar
from core import town_config

from .pricing import simulate
from .selectors import in_town_order

SCHOOL = "scolaire"
YOUNG = "petite_enfance"
YOUNG_MODULES = frozenset({"petite_enfance"})
# The regular place first: the alternative the total counts.
CRECHE_ORDER = {"creche_reguliere": 0, "creche_occasionnelle": 1}


class ServiceFact(NamedTuple):
    code: str
    module: str
    kind: str


@dataclass(frozen=True)
class Counting:
    counted: tuple[str, ...]
    notes: Mapping[str, str]  # code -> why it is left out of the total


def counted_services(services: Iterable[ServiceFact], child: str) -> Counting:
    """Which services the total adds for a `child` (SCHOOL or YOUNG), in the
    given order; the others get a French note."""
    services = list(services)
    counted, notes = [], {}
    young = [s for s in services if s.module in YOUNG_MODULES]
    chosen = min(young, key=lambda s: (CRECHE_ORDER.get(s.kind, 2), young.index(s)), default=None)
    for s in services:
        if child == YOUNG:
            if s.module not in YOUNG_MODULES:
                notes[s.code] = "pas pour un enfant non scolarisé"
            elif s is not chosen:
                notes[s.code] = "autre formule d'accueil : une seule est comptée"
            else:
                counted.append(s.code)
        elif s.module in YOUNG_MODULES:
            notes[s.code] = "accueil des enfants non scolarisés"
        else:
            counted.append(s.code)
    return Counting(tuple(counted), notes)


def next_month(today: date) -> tuple[date, date]:
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last


def simulation_inputs(codes: Iterable[str], *, first: date, last: date, hourly_default):
    """(service facts in `codes` order, opening days per code from `first` to
    `last`). A service without an activity or a calendar (town without a
    school-holiday zone, month past the known school calendar) keeps
    `hourly_default(code)`, the town's typical count."""
    codes = list(codes)
    found = {s.code: s for s in town_config.services(codes=codes, active=None)}
    facts = [
        ServiceFact(c, found[c].module, found[c].kind) if c in found else ServiceFact(c, "", "")
        for c in codes
    ]
    activities = {}
    for activity in (
        Activity.objects.filter(service__code__in=codes, is_active=True)
        .select_related("service")
        .order_by("id")
    ):
        activities.setdefault(activity.service.code, activity)
    calendar = town_calendar()
    counts: dict[str, int] = {}
    for code in codes:
        activity = activities.get(code)
        if calendar is None or activity is None or is_hourly(activity.service):
            counts[code] = hourly_default(code)
            continue
        try:
            counts[code] = len(
                calendar.opening_days(first, last, activity_day_kinds(activity), code)
            )
        except SchoolCalendarUnavailable:
            counts[code] = hourly_default(code)
    return facts, counts


def simulate_for_town(commune, tariffs, *, child: str, today: date, **figures):
    """The simulator of the page and of the API: `simulate()` on `today`, with
    the services in the town's order, the days each one opens next month and
    a total for one `child` (SCHOOL or YOUNG). `figures`: qf, or the CAF
    figures, child_rank, resident. Returns (simulation, counting, first day
    of the month simulated); raises PricingError (French)."""

    first, last = next_month(today)
    codes = in_town_order(tariffs.services)
    facts, counts = simulation_inputs(
        codes,
        first=first,
        last=last,
        hourly_default=lambda c: tariffs.tariff(c).sessions_per_month,
    )
    counting = counted_services(facts, child)
    result = simulate(
        tariffs,
        day=today,
        sessions_per_month=counts,
        services=codes,
        counted=counting.counted,
        **figures,
    )
    return result, counting, first
