"""Pure rules: school years, eligibility, grid diffs, Castres' copy to another
child, weekly patterns (table-driven and hypothesis). Uploads: core.uploads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.rules import (
    Action,
    Change,
    Eligibility,
    age_in_months,
    changes_from_grid,
    eligibility_problem,
    mirror_changes,
    pattern_days,
    school_year_of,
    weekdays_phrase,
)


@pytest.mark.parametrize(
    "day, year",
    [
        (date(2026, 9, 1), 2026),
        (date(2026, 8, 31), 2025),
        (date(2027, 7, 15), 2026),
        (date(2027, 1, 4), 2026),
        (date(2026, 12, 31), 2026),
    ],
)
def test_school_year(day, year):
    assert school_year_of(day) == year


@pytest.mark.parametrize(
    "birth, on, months",
    [
        (date(2020, 1, 31), date(2020, 2, 29), 0),
        (date(2020, 1, 31), date(2020, 3, 1), 1),
        (date(2018, 5, 14), date(2027, 3, 15), 106),
        (date(2018, 5, 14), date(2018, 5, 14), 0),
    ],
)
def test_age_in_months(birth, on, months):
    assert age_in_months(birth, on) == months


@given(st.dates(date(2000, 1, 1), date(2030, 1, 1)), st.integers(0, 5000))
def test_age_never_decreases(birth, offset):
    on = birth + timedelta(days=offset)
    assert age_in_months(birth, on) <= age_in_months(birth, on + timedelta(days=1))
    assert 0 <= age_in_months(birth, on) <= offset // 28 + 1


@pytest.mark.parametrize(
    "rule, level, expected",
    [
        (Eligibility(), "", None),
        (Eligibility(min_age_months=36), "", "accueil à partir de 3 ans"),
        (Eligibility(max_age_months=12), "", "accueil jusqu'à 1 an"),
        (Eligibility(max_age_months=23), "", "accueil jusqu'à 1 an inclus"),
        (Eligibility(max_age_months=20), "", "accueil jusqu'à 20 mois"),
        (Eligibility(school_levels={"PS", "MS", "GS"}), "CP", "réservé aux niveaux PS, MS, GS"),
        (Eligibility(school_levels={"PS", "MS", "GS"}), "ms", None),
        (Eligibility(school_levels={"CP"}), "", None),  # unknown level: staff check it
    ],
)
def test_eligibility(rule, level, expected):
    assert (
        eligibility_problem(
            rule, birth_date=date(2024, 1, 10), school_level=level, on=date(2026, 1, 10)
        )
        == expected
    )


D1, D2, D3 = date(2027, 3, 15), date(2027, 3, 16), date(2027, 3, 18)


def test_changes_from_grid_only_touch_shown_cells():
    booked = {(1, 7, D1), (1, 7, D2)}
    shown = {(1, 7, D1), (1, 7, D3), (2, 7, D1)}
    ticked = {(1, 7, D3), (2, 7, D1), (1, 7, D2)}  # D2 not shown: never changes
    assert changes_from_grid(booked=booked, ticked=ticked, shown=shown) == [
        Change(1, 7, D1, Action.CANCEL),
        Change(1, 7, D3, Action.BOOK),
        Change(2, 7, D1, Action.BOOK),
    ]


def test_mirror_changes_to_another_child():
    changes = [
        Change(1, 7, D1, Action.BOOK),
        Change(1, 7, D2, Action.CANCEL),
        Change(2, 8, D3, Action.BOOK),
    ]
    out = mirror_changes(changes, source_child=1, targets={2: {7: 8}, 3: {}})
    assert out == sorted(changes + [Change(2, 8, D1, Action.BOOK), Change(2, 8, D2, Action.CANCEL)])


@given(
    st.sets(st.dates(date(2027, 1, 1), date(2027, 12, 31)), max_size=60), st.sets(st.integers(0, 4))
)
def test_pattern_days_are_open_days_on_the_weekdays(open_days, weekdays):
    start, end = date(2027, 3, 1), date(2027, 6, 30)
    days = pattern_days(open_days, weekdays=weekdays, start=start, end=end)
    assert days == sorted(days)
    assert all(d in open_days and d.weekday() in weekdays and start <= d <= end for d in days)
    assert len(days) == len({d for d in open_days if start <= d <= end and d.weekday() in weekdays})


def test_weekdays_phrase():
    assert weekdays_phrase([3, 0]) == "lundis et jeudis"
    assert weekdays_phrase([0, 2, 4]) == "lundis, mercredis et vendredis"
