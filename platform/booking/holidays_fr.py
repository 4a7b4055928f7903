"""French public holidays ("jours fériés") and school holidays ("vacances scolaires").

Both come from libraries that work OFFLINE (docs/decisions/0100-french-holidays.md):
- public holidays: `holidays` computes them (Easter-based ones included);
- school holidays: `vacances-scolaires-france` ships the ministry's calendar as a
  CSV inside its wheel and never fetches anything. Its data ends with the last
  school year the ministry has published (summer 2028 in 0.12.0): beyond that
  we refuse to guess (`SchoolCalendarUnavailable`) rather than show holiday
  weeks as school days; upgrading the package extends it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from functools import cache

import holidays as holidays_lib
from vacances_scolaires_france import SchoolHolidayDates


class SchoolCalendarUnavailable(Exception):
    """The school-holiday calendar is unknown for this zone or date."""


class PublicHolidays:
    """Public holidays of metropolitan France, optionally of Alsace-Moselle.

    Behaves as a read-only container of dates (`day in FRANCE`). Years are
    computed once and cached as frozensets, so it is cheap and thread-safe to
    share (the `holidays` objects fill themselves lazily on lookup).
    """

    def __init__(self, subdiv: str | None = None) -> None:
        self.subdiv = subdiv

    @classmethod
    def for_department(cls, code: str) -> PublicHolidays:
        # Alsace-Moselle keeps two more days off (Good Friday, 26 December) under
        # the local law inherited from 1871-1918: Moselle (57), Bas-Rhin (67), Haut-Rhin (68).
        if code == "57":
            return ALSACE_MOSELLE_57
        if code in ("67", "68"):
            return ALSACE
        return FRANCE

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and day in _public_holidays(day.year, self.subdiv)

    def name(self, day: date) -> str | None:
        return _public_holiday_names(day.year, self.subdiv).get(day)

    def in_year(self, year: int) -> frozenset[date]:
        return _public_holidays(year, self.subdiv)

    def __repr__(self) -> str:
        return f"PublicHolidays(subdiv={self.subdiv!r})"


# functools.cache does not stop several threads from computing the same value
# at once: 50 simultaneous first bookings parsed the school CSV 50 times (15 s).
_LOADING = threading.Lock()


@cache
def _load_public_holiday_names(year: int, subdiv: str | None) -> dict[date, str]:
    return dict(holidays_lib.France(years=year, subdiv=subdiv, language="fr").items())


def _public_holiday_names(year: int, subdiv: str | None) -> dict[date, str]:
    with _LOADING:
        return _load_public_holiday_names(year, subdiv)


@cache
def _public_holidays(year: int, subdiv: str | None) -> frozenset[date]:
    return frozenset(_public_holiday_names(year, subdiv))


FRANCE = PublicHolidays()
ALSACE_MOSELLE_57 = PublicHolidays("57")
ALSACE = PublicHolidays("6AE")  # Collectivité européenne d'Alsace (67 and 68)


@dataclass(frozen=True)
class SchoolHolidayPeriod:
    """One school-holiday period of a zone, as published (weekends included):
    e.g. "Vacances de la Toussaint", zone C, 2027-10-23 -> 2027-11-07."""

    name: str
    first_day: date
    last_day: date

    def __contains__(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


ZONES = ("A", "B", "C")


@dataclass(frozen=True)
class SchoolHolidays:
    """The school-holiday periods of one zone, and the dates they are known for."""

    zone: str
    periods: tuple[SchoolHolidayPeriod, ...]
    known_from: date
    known_until: date

    @classmethod
    def for_zone(cls, zone: str) -> SchoolHolidays:
        if zone not in ZONES:
            raise SchoolCalendarUnavailable(
                f"Vacances scolaires inconnues pour la zone « {zone} » "
                "(zones prises en charge : A, B, C)."
            )
        return _school_holidays(zone)

    def check_known(self, day: date) -> None:
        if not self.known_from <= day <= self.known_until:
            raise SchoolCalendarUnavailable(
                f"Le calendrier des vacances scolaires (zone {self.zone}) n'est connu que du "
                f"{self.known_from:%d/%m/%Y} au {self.known_until:%d/%m/%Y} ; "
                f"mettez à jour le paquet vacances-scolaires-france."
            )

    def period_of(self, day: date) -> SchoolHolidayPeriod | None:
        """The holiday period containing `day`, or None for a school-term day."""
        self.check_known(day)
        for period in self.periods:
            if day in period:
                return period
        return None

    def is_holiday(self, day: date) -> bool:
        return self.period_of(day) is not None

    def periods_between(self, start: date, end: date) -> list[SchoolHolidayPeriod]:
        return [p for p in self.periods if p.last_day >= start and p.first_day <= end]


def _school_holidays(zone: str) -> SchoolHolidays:
    with _LOADING:
        return _load_school_holidays(zone)


@cache
def _dates() -> SchoolHolidayDates:
    """The package's CSV, parsed once per process (0.4 s) for every zone."""
    return SchoolHolidayDates()


@cache
def _load_school_holidays(zone: str) -> SchoolHolidays:
    data = _dates()  # reads the CSV shipped inside the wheel
    days: list[tuple[date, str]] = []
    for year in range(data.min_year, data.max_year + 1):
        for day, row in data.holidays_for_year_and_zone(year, zone).items():
            days.append((day, row["nom_vacances"]))
    days.sort()
    periods: list[SchoolHolidayPeriod] = []
    for day, name in days:
        last = periods[-1] if periods else None
        if last and last.name == name and (day - last.last_day).days == 1:
            periods[-1] = SchoolHolidayPeriod(name, last.first_day, day)
        else:
            periods.append(SchoolHolidayPeriod(name, day, day))
    summers = [p for p in periods if p.name == "Vacances d'été"]
    # The file lists every day up to 31 December of its last year, but the
    # ministry's calendar stops at the last published summer: after it, holiday
    # weeks would wrongly look like school days.
    known_until = summers[-1].last_day if summers else date(data.max_year, 12, 31)
    return SchoolHolidays(
        zone=zone,
        periods=tuple(periods),
        known_from=date(data.min_year, 1, 1),
        known_until=known_until,
    )
