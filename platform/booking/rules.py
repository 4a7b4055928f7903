"""Pure rules of registrations and reservation changes (no ORM, no request, no clock).

- the school year a day belongs to (registrations are renewed every year:
  Bassens, Castres);
- who may attend an activity (age, school level);
- turning a ticked grid, a weekly pattern, or "the same change for another
  child" (Castres) into one list of changes.

Uploaded files are checked by core.uploads (the one checker).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from booking.french import WEEKDAYS

# The French school year starts on 1 September: July-August holidays belong to
# the year that ends (a summer ALSH session needs that year's registration).
SCHOOL_YEAR_FIRST_MONTH = 9

SCHOOL_LEVELS = ("TPS", "PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2")


def school_year_of(day: date) -> int:
    """The year of the "rentrée" of the school year holding `day`: 2026 for 2026-2027."""
    return day.year if day.month >= SCHOOL_YEAR_FIRST_MONTH else day.year - 1


def school_year_label(year: int) -> str:
    return f"{year}-{year + 1}"


def age_in_months(birth_date: date, on: date) -> int:
    """Completed months of age on `on` (a child born on 31 January is one month
    old on 28 February? No: on 28/29 February he is not yet, on 1 March he is)."""
    months = (on.year - birth_date.year) * 12 + (on.month - birth_date.month)
    if on.day < birth_date.day:
        months -= 1
    return months


def _years(months: int) -> str:
    if months % 12 == 0:
        n = months // 12
        return f"{n} an" if n == 1 else f"{n} ans"
    return f"{months} mois"


@dataclass(frozen=True)
class Eligibility:
    min_age_months: int | None = None
    max_age_months: int | None = None  # included: "jusqu'à 11 ans" = up to 143 months
    school_levels: frozenset[str] = frozenset()
    residents_only: bool = False  # reserved to households living in the town

    def __post_init__(self) -> None:
        object.__setattr__(self, "school_levels", frozenset(self.school_levels))


def normalise_city(name: str) -> str:
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def is_resident(city: str, town_name: str) -> bool | None:
    """Does a household living in `city` live in the town? None: city unknown."""
    if not (city or "").strip():
        return None
    return normalise_city(city) == normalise_city(town_name)


def eligibility_problem(
    rule: Eligibility,
    *,
    birth_date: date,
    school_level: str,
    on: date,
    resident: bool | None = None,
) -> str | None:
    """None when the child may attend on `on`, else the French reason.
    An unknown school level ("") or city (`resident` None) does not exclude a
    child: staff check it."""
    if rule.residents_only and resident is False:
        return "réservé aux familles habitant la commune"
    age = age_in_months(birth_date, on)
    if rule.min_age_months is not None and age < rule.min_age_months:
        return f"accueil à partir de {_years(rule.min_age_months)}"
    if rule.max_age_months is not None and age > rule.max_age_months:
        limit = rule.max_age_months
        if (limit + 1) % 12 == 0:  # 155 months: "jusqu'à 12 ans inclus"
            return f"accueil jusqu'à {_years(limit + 1 - 12)} inclus"
        return f"accueil jusqu'à {_years(limit)}"
    level = (school_level or "").strip().upper()
    if rule.school_levels and level and level not in rule.school_levels:
        return f"réservé aux niveaux {', '.join(sorted(rule.school_levels, key=_level_order))}"
    return None


def _level_order(level: str) -> int:
    return SCHOOL_LEVELS.index(level) if level in SCHOOL_LEVELS else len(SCHOOL_LEVELS)


# --- changes -------------------------------------------------------------------


class Action(StrEnum):
    BOOK = "book"
    CANCEL = "cancel"


@dataclass(frozen=True, order=True)
class Change:
    """Book or cancel one day of one track (a child at one activity)."""

    child_id: int
    activity_id: int
    day: date
    action: Action


Cell = tuple[int, int, date]  # (child_id, activity_id, day)


def changes_from_grid(
    *, booked: Iterable[Cell], ticked: Iterable[Cell], shown: Iterable[Cell]
) -> list[Change]:
    """A submitted grid: `shown` are the editable cells the page displayed,
    `ticked` those left ticked. A shown cell ticked and not booked is a booking;
    booked and not ticked, a cancellation. Cells not shown never change (a stale
    or crafted form cannot cancel what it did not display)."""
    booked, ticked, shown = set(booked), set(ticked), set(shown)
    out = [Change(c, a, d, Action.BOOK) for (c, a, d) in (ticked & shown) - booked]
    out += [Change(c, a, d, Action.CANCEL) for (c, a, d) in (booked & shown) - ticked]
    return sorted(out)


def mirror_changes(
    changes: Iterable[Change], *, source_child: int, targets: dict[int, dict[int, int]]
) -> list[Change]:
    """Castres: "appliquer les mêmes changements à un autre enfant". Each change
    of `source_child` is repeated for every target child, on the activity of
    the same service: `targets[child_id][source_activity_id] -> activity_id`
    (a target without that service is skipped)."""
    changes = list(changes)
    out = set(changes)
    for ch in changes:
        if ch.child_id != source_child:
            continue
        for child_id, activity_map in targets.items():
            target_activity = activity_map.get(ch.activity_id)
            if child_id != source_child and target_activity is not None:
                out.add(Change(child_id, target_activity, ch.day, ch.action))
    return sorted(out)


def pattern_days(
    open_days: Iterable[date], *, weekdays: Iterable[int], start: date, end: date
) -> list[date]:
    """ "Réserver tous les lundis et jeudis de cette période": the opening days
    from start to end (included) falling on one of `weekdays` (0 = Monday)."""
    wanted = set(weekdays)
    return sorted({d for d in open_days if start <= d <= end and d.weekday() in wanted})


def weekdays_phrase(weekdays: Iterable[int]) -> str:
    names = [f"{WEEKDAYS[w]}s" for w in sorted(set(weekdays))]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " et " + names[-1]
