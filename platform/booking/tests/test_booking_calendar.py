"""Opening days from the school calendar (zones A/B/C), public holidays and closures."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.calendar import DEFAULT_DAY_KINDS, Closure, DayKind, TownCalendar
from booking.holidays_fr import (
    FRANCE,
    PublicHolidays,
    SchoolCalendarUnavailable,
    SchoolHolidays,
    _load_school_holidays,
)

SCHOOL = {DayKind.SCHOOL_DAY}
WEDNESDAY = {DayKind.WEDNESDAY}
HOLIDAYS = {DayKind.HOLIDAYS}
C = TownCalendar(zone="C")  # Castres (Toulouse), Bondoufle (Versailles)


def test_school_week_with_armistice_day():
    # Week of 8 November 2027 (zone C, after the Toussaint): Thursday 11 is a public holiday.
    assert C.opening_days(date(2027, 11, 8), date(2027, 11, 14), SCHOOL) == [
        date(2027, 11, 8),
        date(2027, 11, 9),
        date(2027, 11, 12),
    ]
    assert C.opening_days(date(2027, 11, 8), date(2027, 11, 14), WEDNESDAY) == [date(2027, 11, 10)]
    assert C.opening_days(date(2027, 11, 8), date(2027, 11, 14), HOLIDAYS) == []


def test_toussaint_2027_zone_c():
    days = C.opening_days(date(2027, 10, 23), date(2027, 11, 7), HOLIDAYS)
    assert days[0] == date(2027, 10, 25) and days[-1] == date(2027, 11, 5)
    assert date(2027, 11, 1) not in days  # la Toussaint, public holiday
    assert len(days) == 9
    assert C.opening_days(date(2027, 10, 23), date(2027, 11, 7), SCHOOL | WEDNESDAY) == []


def test_zones_differ():
    # Monday 22 February 2027: winter holidays in zone A (Bassens), school in zone C.
    a = TownCalendar(zone="A")
    day = date(2027, 2, 22)
    assert a.kind_of(day) is DayKind.HOLIDAYS
    assert C.kind_of(day) is DayKind.SCHOOL_DAY
    assert a.is_open(day, HOLIDAYS) and not C.is_open(day, HOLIDAYS)


def test_ascension_bridge_is_no_school_day():
    # Thursday 6 May 2027 is Ascension; Friday 7 is the "pont" (school holidays data).
    assert not C.is_open(date(2027, 5, 6), SCHOOL | HOLIDAYS)
    assert C.kind_of(date(2027, 5, 7)) is DayKind.HOLIDAYS
    assert not C.is_open(date(2027, 5, 7), SCHOOL)
    assert C.is_open(date(2027, 5, 7), HOLIDAYS)


def test_public_holidays_in_term():
    # 1 May and 8 May 2026 are Fridays; Whit Monday 25 May 2026.
    for day in (date(2026, 5, 1), date(2026, 5, 8), date(2026, 5, 25), date(2026, 5, 14)):
        assert not C.is_open(day, SCHOOL | WEDNESDAY | HOLIDAYS | {DayKind.WEEKDAY})


def test_alsace_moselle_good_friday():
    moselle = TownCalendar.for_town(zone="B", department="57")
    nantes = TownCalendar.for_town(zone="B", department="44")
    good_friday = date(2027, 3, 26)
    assert not moselle.is_open(good_friday, SCHOOL)
    assert nantes.is_open(good_friday, SCHOOL)
    assert PublicHolidays.for_department("67") is PublicHolidays.for_department("68")
    assert good_friday in PublicHolidays.for_department("67")
    assert date(2027, 12, 26) in PublicHolidays.for_department("68")  # Saint-Étienne
    assert good_friday not in FRANCE
    assert FRANCE.name(date(2027, 5, 6)) == "Ascension"


def test_creche_runs_every_weekday_in_holidays_too():
    creche = DEFAULT_DAY_KINDS["creche_reguliere"]
    days = C.opening_days(date(2027, 10, 25), date(2027, 10, 31), creche)
    assert days == [date(2027, 10, 25) + timedelta(days=i) for i in range(5)]


def test_town_closures_per_service():
    calendar = TownCalendar(
        zone="C",
        closures=(
            Closure(
                date(2027, 12, 27),
                date(2027, 12, 31),
                "fermeture de fin d'année",
                {"alsh-vacances"},
            ),
        ),
    )
    noel = calendar.opening_days(
        date(2027, 12, 18), date(2028, 1, 2), HOLIDAYS, service="alsh-vacances"
    )
    assert noel == [
        date(2027, 12, 20),
        date(2027, 12, 21),
        date(2027, 12, 22),
        date(2027, 12, 23),
        date(2027, 12, 24),
    ]
    assert date(2027, 12, 28) in calendar.opening_days(
        date(2027, 12, 18), date(2028, 1, 2), {DayKind.WEEKDAY}, service="creche"
    )


def test_holiday_sessions_and_their_first_day():
    sessions = C.holiday_sessions(date(2027, 9, 1), date(2028, 8, 31))
    assert [(s.name, s.first_day, s.last_day) for s in sessions] == [
        ("Vacances de la Toussaint", date(2027, 10, 25), date(2027, 11, 5)),
        ("Vacances de Noël", date(2027, 12, 20), date(2027, 12, 31)),
        ("Vacances d'hiver", date(2028, 2, 14), date(2028, 2, 25)),
        # Saturday 15 April; Monday 17 April 2028 is Easter Monday.
        ("Vacances de printemps", date(2028, 4, 18), date(2028, 4, 28)),
        ("Pont de l'Ascension", date(2028, 5, 26), date(2028, 5, 26)),
        ("Vacances d'été", date(2028, 7, 4), date(2028, 8, 31)),
    ]
    assert C.session_start(date(2028, 4, 27)) == date(2028, 4, 18)
    assert C.session_start(date(2027, 11, 10)) is None  # school term


def test_a_closure_on_the_first_monday_moves_the_session_start():
    calendar = TownCalendar(zone="C", closures=(Closure(date(2027, 10, 25), date(2027, 10, 25)),))
    assert calendar.session_start(date(2027, 11, 3)) == date(2027, 10, 26)


def test_school_calendar_is_unknown_after_the_published_years():
    holidays = SchoolHolidays.for_zone("C")
    assert holidays.known_until == date(2028, 8, 31)
    with pytest.raises(SchoolCalendarUnavailable, match="mettez à jour"):
        C.kind_of(date(2028, 10, 2))
    with pytest.raises(SchoolCalendarUnavailable, match="Corse"):
        TownCalendar(zone="Corse")


def test_school_holidays_data_ships_in_the_wheel_and_loads_offline(monkeypatch):
    """docs/decisions/0100: vacances-scolaires-france reads a CSV inside its
    package; nothing may reach the network at run time."""
    import vacances_scolaires_france

    assert (Path(vacances_scolaires_france.__file__).parent / "data" / "data.csv").is_file()

    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    _load_school_holidays.cache_clear()
    try:
        periods = SchoolHolidays.for_zone("B").periods_between(date(2027, 1, 1), date(2027, 12, 31))
        assert periods[0].name == "Vacances de Noël"
        assert date(2027, 3, 1) in next(p for p in periods if p.name == "Vacances d'hiver")
    finally:
        _load_school_holidays.cache_clear()


@settings(max_examples=200, deadline=None)
@given(day=st.dates(date(1991, 1, 1), date(2028, 8, 31)), zone=st.sampled_from("ABC"))
def test_kinds_partition_open_weekdays(day, zone):
    calendar = TownCalendar(zone=zone)
    kinds = [
        k
        for k in (DayKind.SCHOOL_DAY, DayKind.WEDNESDAY, DayKind.HOLIDAYS)
        if calendar.is_open(day, {k})
    ]
    if day.weekday() >= 5 or day in FRANCE:
        assert kinds == [] and not calendar.is_open(day, {DayKind.WEEKDAY})
    else:
        assert len(kinds) == 1 and calendar.is_open(day, {DayKind.WEEKDAY})
        holiday = calendar.school_holidays.is_holiday(day)
        assert (kinds[0] is DayKind.HOLIDAYS) is holiday
        if not holiday:
            assert (kinds[0] is DayKind.WEDNESDAY) is (day.weekday() == 2)


def test_school_weekdays_can_include_wednesday_morning():
    calendar = TownCalendar(zone="C", school_weekdays={0, 1, 2, 3, 4})
    assert calendar.kind_of(date(2027, 11, 10)) is DayKind.SCHOOL_DAY
