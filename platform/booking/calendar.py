"""Opening days of an activity, from the school calendar of the town's zone.

PURE code (no ORM): a `TownCalendar` is built from plain values (zone, public
holidays, closures) and answers which days an activity runs:
- SCHOOL_DAY: Monday, Tuesday, Thursday, Friday of school terms (canteen,
  morning/evening care, études, transport); a town with school on Wednesday
  morning passes its own `school_weekdays`;
- WEDNESDAY: Wednesdays of school terms (ALSH du mercredi);
- HOLIDAYS: Monday to Friday of the zone's school holidays (ALSH des vacances);
- WEEKDAY: every Monday to Friday, terms and holidays alike (crèches);
minus French public holidays and the town's closures. School holidays come
from booking.holidays_fr (offline data).

Holiday SESSIONS are the school-holiday periods, each starting on its first
opening day: `weeks_before_session` (Bondoufle: 4 weeks before the first day
of the session) reads `session_start(day)`.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from booking.holidays_fr import FRANCE, PublicHolidays, SchoolHolidayPeriod, SchoolHolidays


class DayKind(StrEnum):
    SCHOOL_DAY = "school_day"
    WEDNESDAY = "wednesday"
    HOLIDAYS = "holidays"
    WEEKDAY = "weekday"


# Defaults per service kind (core.modules); a module may choose otherwise.
DEFAULT_DAY_KINDS: dict[str, frozenset[DayKind]] = {
    "restauration_scolaire": frozenset({DayKind.SCHOOL_DAY}),
    "accueil_matin": frozenset({DayKind.SCHOOL_DAY}),
    "accueil_soir": frozenset({DayKind.SCHOOL_DAY}),
    "etudes": frozenset({DayKind.SCHOOL_DAY}),
    "transport_scolaire": frozenset({DayKind.SCHOOL_DAY}),
    "alsh_mercredi": frozenset({DayKind.WEDNESDAY}),
    "alsh_vacances": frozenset({DayKind.HOLIDAYS}),
    "creche_reguliere": frozenset({DayKind.WEEKDAY}),
    "creche_occasionnelle": frozenset({DayKind.WEEKDAY}),
}

SCHOOL_WEEKDAYS = frozenset({0, 1, 3, 4})  # the four-day week most communes keep


@dataclass(frozen=True)
class Closure:
    """Days a town closes an activity (e.g. the ALSH between Christmas and New
    Year). `services` empty = every service."""

    first_day: date
    last_day: date
    label: str = ""
    services: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "services", frozenset(self.services))
        if self.first_day > self.last_day:
            raise ValueError("La fermeture finit avant de commencer.")

    def covers(self, day: date, service: str | None) -> bool:
        if self.services and service not in self.services:
            return False
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True)
class HolidaySession:
    """A holiday session of an activity: the school-holiday period, with its first
    and last OPENING days (a public holiday or a closure on the Monday moves
    `first_day`)."""

    name: str
    period: SchoolHolidayPeriod
    first_day: date
    last_day: date


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


@dataclass(frozen=True)
class TownCalendar:
    zone: str  # "A", "B" or "C" (tenant_configs `school_holiday_zone`)
    public_holidays: Container[date] = FRANCE
    closures: tuple[Closure, ...] = ()
    school_weekdays: frozenset[int] = SCHOOL_WEEKDAYS
    school_holidays: SchoolHolidays | None = None  # None: the zone's published calendar

    def __post_init__(self) -> None:
        object.__setattr__(self, "closures", tuple(self.closures))
        object.__setattr__(self, "school_weekdays", frozenset(self.school_weekdays))
        if self.school_holidays is None:
            object.__setattr__(self, "school_holidays", SchoolHolidays.for_zone(self.zone))

    @classmethod
    def for_town(cls, *, zone: str, department: str, closures=()) -> TownCalendar:
        return cls(
            zone=zone,
            public_holidays=PublicHolidays.for_department(department),
            closures=tuple(closures),
        )

    def kind_of(self, day: date) -> DayKind | None:
        """What sort of day it is for a child's activities, ignoring public
        holidays and closures: None for Saturdays, Sundays, and term weekdays
        that are neither school days nor Wednesdays."""
        weekday = day.weekday()
        if weekday >= 5:
            return None
        if self.school_holidays.is_holiday(day):
            return DayKind.HOLIDAYS
        if weekday in self.school_weekdays:
            return DayKind.SCHOOL_DAY
        return DayKind.WEDNESDAY if weekday == 2 else None

    def is_closed(self, day: date, service: str | None = None) -> bool:
        return day in self.public_holidays or any(c.covers(day, service) for c in self.closures)

    def is_open(self, day: date, kinds: Container[DayKind], service: str | None = None) -> bool:
        """Does an activity running on `kinds` take children on `day`?"""
        if day.weekday() >= 5 or self.is_closed(day, service):
            return False
        if DayKind.WEEKDAY in kinds:
            return True
        return self.kind_of(day) in kinds

    def opening_days(
        self, start: date, end: date, kinds: Container[DayKind], service: str | None = None
    ) -> list[date]:
        """Every day from `start` to `end` (included) the activity runs."""
        return [d for d in _days(start, end) if self.is_open(d, kinds, service)]

    def holiday_sessions(
        self, start: date, end: date, service: str | None = None
    ) -> list[HolidaySession]:
        """Holiday sessions overlapping `start`..`end`, with their first and last
        opening days; a period with no opening day at all is left out."""
        sessions = []
        for period in self.school_holidays.periods_between(start, end):
            days = self.opening_days(period.first_day, period.last_day, {DayKind.HOLIDAYS}, service)
            if days:
                sessions.append(HolidaySession(period.name, period, days[0], days[-1]))
        return sessions

    def session_of(self, day: date, service: str | None = None) -> HolidaySession | None:
        period = self.school_holidays.period_of(day)
        if period is None:
            return None
        sessions = self.holiday_sessions(period.first_day, period.last_day, service)
        return sessions[0] if sessions else None

    def session_start(self, day: date, service: str | None = None) -> date | None:
        """First opening day of the holiday session holding `day`, or None in
        school term (what `weeks_before_session` counts from)."""
        session = self.session_of(day, service)
        if session is None or day < session.first_day:
            # A day before the session's first opening day (a closed Monday)
            # is not bookable anyway: it counts as its own start.
            return None if session is None else day
        return session.first_day
