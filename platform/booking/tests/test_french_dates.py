"""French date formatting, whatever the process locale."""

from __future__ import annotations

import locale
from datetime import UTC, date, datetime

import pytest

from booking.french import format_date, format_datetime
from booking.tests.helpers import paris


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (date(2027, 5, 1), "samedi 1er mai 2027"),
        (date(2027, 3, 10), "mercredi 10 mars 2027"),
        (date(2027, 2, 2), "mardi 2 février 2027"),
        (date(2027, 8, 15), "dimanche 15 août 2027"),
        (date(2027, 12, 31), "vendredi 31 décembre 2027"),
        (date(2027, 11, 1), "lundi 1er novembre 2027"),
        (date(2027, 6, 3), "jeudi 3 juin 2027"),
    ],
)
def test_format_date(value, text):
    assert format_date(value) == text


def test_format_datetime_is_in_paris_time():
    assert format_datetime(paris(2027, 3, 10, 23, 59)) == "mercredi 10 mars 2027 à 23:59"
    # 22:30 UTC on 1 May (summer time) is 00:30 on 2 May in Paris.
    utc = datetime(2027, 5, 1, 22, 30, tzinfo=UTC)
    assert format_datetime(utc) == "dimanche 2 mai 2027 à 00:30"
    assert format_datetime(paris(2027, 5, 1, 8, 30), weekday=False) == "1er mai 2027 à 08:30"


def test_independent_of_the_os_locale():
    previous = locale.setlocale(locale.LC_TIME)
    try:
        locale.setlocale(locale.LC_TIME, "C")
        assert format_date(date(2027, 5, 1)) == "samedi 1er mai 2027"
    finally:
        locale.setlocale(locale.LC_TIME, previous)
