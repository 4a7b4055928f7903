"""Deadline rules of the launch towns, evaluated at the last instant before and
the first instant after each limit (frozen `now`: the functions take it as input).

2027 facts used below: DST starts Sunday 28 March (02:00 -> 03:00) and ends
Sunday 31 October (03:00 -> 02:00); Easter Monday 29 March, Ascension Thursday
6 May, Whit Monday 17 May. In 2026, 1 May and 8 May are Fridays, Ascension is
Thursday 14 May, Whit Monday 25 May.
"""

from __future__ import annotations

from datetime import UTC, date, time, timedelta

import pytest

from booking.calendar import TownCalendar
from booking.deadlines import (
    DayOfPreviousMonth,
    DaysBefore,
    HoursBefore,
    NotOnline,
    Reason,
    ServiceDeadlines,
    WorkingDaysBefore,
    evaluate_cell,
    limit_for,
    parse_deadlines,
    parse_rule,
    start_of_day,
)
from booking.holidays_fr import FRANCE, PublicHolidays
from booking.tests.helpers import US, last_instant_of_minute, paris, real_rules

HOUR = timedelta(hours=1)


def check_boundary(rules, day, limit, *, session_start=None, booked=False, **kw):
    """Allowed up to limit's 59th second included, refused from the next minute."""
    before = evaluate_cell(
        day=day,
        now=last_instant_of_minute(limit),
        rules=rules,
        booked=booked,
        session_start=session_start,
        **kw,
    )
    after = evaluate_cell(
        day=day,
        now=limit.replace(second=0) + timedelta(minutes=1),
        rules=rules,
        booked=booked,
        session_start=session_start,
        **kw,
    )
    assert before.can_cancel if booked else before.can_book, before
    assert before.reason is Reason.OK
    assert not (after.can_cancel if booked else after.can_book), after
    assert after.reason is Reason.PAST_DEADLINE
    return before, after


# --- Castres: days_before 7 at 23:59 ------------------------------------------

CASTRES_CASES = [
    # (day, expected limit, UTC offset of the limit in hours)
    (date(2027, 3, 17), paris(2027, 3, 10, 23, 59), 1),  # the example "mercredi 10 mars 2027"
    (date(2027, 3, 30), paris(2027, 3, 23, 23, 59), 1),  # day after DST start, limit before
    (date(2027, 4, 4), paris(2027, 3, 28, 23, 59), 2),  # limit on the DST-start Sunday
    (date(2027, 11, 2), paris(2027, 10, 26, 23, 59), 2),  # day after DST end, limit before
    (date(2027, 11, 7), paris(2027, 10, 31, 23, 59), 1),  # limit on the DST-end Sunday
    (date(2027, 1, 4), paris(2026, 12, 28, 23, 59), 1),  # across new year
]


@pytest.mark.parametrize(("day", "limit", "offset"), CASTRES_CASES)
def test_castres_seven_days(day, limit, offset):
    rules = real_rules("castres", "restauration-scolaire")
    assert limit_for(rules.booking, day) == limit
    # Days-based: the wall clock says 23:59 whatever the DST state.
    assert (limit.hour, limit.minute) == (23, 59)
    assert limit.utcoffset() == offset * HOUR
    before, after = check_boundary(rules, day, limit)
    shown = limit.strftime("%d")
    assert before.explanation.startswith("modifiable jusqu'au ")
    assert f" {int(shown)} " in before.explanation and before.explanation.endswith("à 23:59")
    assert after.explanation.startswith("délai dépassé depuis le ")


def test_castres_explanations_word_for_word():
    rules = real_rules("castres", "alsh-mercredi")
    ok = evaluate_cell(day=date(2027, 3, 17), now=paris(2027, 3, 1, 9), rules=rules, booked=False)
    assert ok.explanation == "modifiable jusqu'au mercredi 10 mars 2027 à 23:59"
    late = evaluate_cell(day=date(2027, 3, 10), now=paris(2027, 3, 5, 9), rules=rules, booked=True)
    assert late.explanation == "délai dépassé depuis le mercredi 3 mars 2027 à 23:59"
    assert (late.can_book, late.can_cancel) == (False, False)


def test_booked_cell_can_cancel_but_not_book():
    rules = real_rules("castres", "restauration-scolaire")
    state = evaluate_cell(day=date(2027, 3, 17), now=paris(2027, 3, 1), rules=rules, booked=True)
    assert (state.can_book, state.can_cancel) == (False, True)


# --- Bondoufle: Wednesday of the previous week; 4 weeks before the session ----

BONDOUFLE_WEDNESDAYS = [
    (date(2027, 3, 17), paris(2027, 3, 10, 23, 59)),
    (date(2027, 3, 31), paris(2027, 3, 24, 23, 59)),  # across DST start
    (date(2027, 11, 10), paris(2027, 11, 3, 23, 59)),
    (date(2027, 11, 3), paris(2027, 10, 27, 23, 59)),  # across DST end
]


@pytest.mark.parametrize(("day", "limit"), BONDOUFLE_WEDNESDAYS)
def test_bondoufle_wednesday_previous_week(day, limit):
    rules = real_rules("bondoufle", "alsh-mercredi")
    assert limit_for(rules.booking, day) == limit
    check_boundary(rules, day, limit)


def test_weekday_previous_week_for_other_days_of_the_week():
    rule = parse_rule({"rule": "weekday_previous_week", "weekday": "wednesday"})
    # Monday 15 March 2027 and Sunday 21 March: the previous week's Wednesday is 10 March.
    assert limit_for(rule, date(2027, 3, 15)) == paris(2027, 3, 10, 23, 59)
    assert limit_for(rule, date(2027, 3, 21)) == paris(2027, 3, 10, 23, 59)
    friday = parse_deadlines(
        {"booking": {"rule": "weekday_previous_week", "weekday": "sunday", "time": "18:00"}}
    ).booking
    assert limit_for(friday, date(2027, 3, 17)) == paris(2027, 3, 14, 18, 0)


BONDOUFLE_SESSIONS = [
    # (a day of the session, first opening day, limit) — zone C (académie de Versailles)
    (date(2027, 11, 3), date(2027, 10, 25), paris(2027, 9, 27, 23, 59)),  # Toussaint 2027
    (date(2027, 10, 25), date(2027, 10, 25), paris(2027, 9, 27, 23, 59)),
    (date(2028, 2, 25), date(2028, 2, 14), paris(2028, 1, 17, 23, 59)),  # hiver 2028
    # Printemps 2028 starts on Saturday 15 April; Monday 17 is Easter Monday,
    # so the session's first day is Tuesday 18 April.
    (date(2028, 4, 26), date(2028, 4, 18), paris(2028, 3, 21, 23, 59)),
    (date(2027, 8, 20), date(2027, 7, 5), paris(2027, 6, 7, 23, 59)),  # été 2027
]


@pytest.mark.parametrize(("day", "first", "limit"), BONDOUFLE_SESSIONS)
def test_bondoufle_holidays_four_weeks_before_first_day(day, first, limit):
    rules = real_rules("bondoufle", "alsh-vacances")
    calendar = TownCalendar(zone="C")
    assert calendar.session_start(day) == first
    assert limit_for(rules.booking, day, session_start=first) == limit
    check_boundary(rules, day, limit, session_start=first)


def test_every_day_of_a_session_shares_its_limit():
    rules = real_rules("bondoufle", "alsh-vacances")
    calendar = TownCalendar(zone="C")
    session = calendar.session_of(date(2027, 10, 28))
    days = calendar.opening_days(session.first_day, session.last_day, {"holidays"})
    limits = {limit_for(rules.booking, d, session_start=calendar.session_start(d)) for d in days}
    assert limits == {paris(2027, 9, 27, 23, 59)}
    assert date(2027, 11, 1) not in days  # Toussaint (public holiday)


# --- Chalonnes: 72 real hours --------------------------------------------------

CHALONNES_CASES = [
    # (day, limit = last allowed minute)
    (date(2027, 3, 18), paris(2027, 3, 14, 23, 59)),  # no DST change: Monday 00:00 - 72 h
    # Tuesday 30 March 00:00 CEST minus 72 real hours = Friday 26 March 23:00 CET.
    (date(2027, 3, 30), paris(2027, 3, 26, 22, 59)),
    # Tuesday 2 November 00:00 CET minus 72 real hours = Saturday 30 October 01:00 CEST.
    (date(2027, 11, 2), paris(2027, 10, 30, 0, 59)),
]


@pytest.mark.parametrize(("day", "limit"), CHALONNES_CASES)
def test_chalonnes_seventy_two_real_hours(day, limit):
    rules = real_rules("chalonnes", "aps")
    got = limit_for(rules.booking, day)
    assert got == limit
    # Subtracting two datetimes of the SAME zone is wall-clock arithmetic in
    # Python: count real hours in UTC.
    real = start_of_day(day).astimezone(UTC) - got.astimezone(UTC) - timedelta(minutes=1)
    assert real == timedelta(hours=72)
    check_boundary(rules, day, limit)


def test_chalonnes_registration_must_be_validated_first():
    rules = real_rules("chalonnes", "goulidons")
    state = evaluate_cell(
        day=date(2027, 3, 17), now=paris(2027, 3, 1), rules=rules, booked=False, registered=False
    )
    assert state.reason is Reason.NOT_REGISTERED and not state.can_book
    assert state.explanation == "inscription au service pas encore validée"


# --- Bassens: windows_only + its default of 7 days -----------------------------


def _bassens_windows():
    from booking.deadlines import ReservationWindow

    return (
        ReservationWindow(opens_at=paris(2027, 5, 1, 8, 30), closes_at=paris(2027, 5, 31, 23, 59)),
        ReservationWindow(opens_at=paris(2027, 8, 16, 8, 30), closes_at=paris(2027, 8, 27, 18, 0)),
    )


BASSENS_CASES = [
    # (now, reason, explanation)
    (
        paris(2027, 4, 30, 12),
        Reason.OUTSIDE_WINDOW,
        "hors période de réservation (prochaine ouverture le 1er mai 2027 à 08:30)",
    ),
    (
        paris(2027, 5, 1, 8, 29, 59, 999_999),
        Reason.OUTSIDE_WINDOW,
        "hors période de réservation (prochaine ouverture le 1er mai 2027 à 08:30)",
    ),
    (paris(2027, 5, 1, 8, 30), Reason.OK, "modifiable jusqu'au lundi 31 mai 2027 à 23:59"),
    (
        paris(2027, 5, 31, 23, 59, 59, 999_999),
        Reason.OK,
        "modifiable jusqu'au lundi 31 mai 2027 à 23:59",
    ),
    (
        paris(2027, 6, 1, 0, 0),
        Reason.OUTSIDE_WINDOW,
        "hors période de réservation (prochaine ouverture le 16 août 2027 à 08:30)",
    ),
]


@pytest.mark.parametrize(("now", "reason", "text"), BASSENS_CASES)
def test_bassens_reservation_periods(now, reason, text):
    rules = real_rules("bassens", "restauration-scolaire")
    assert rules.windows_only
    for booked in (False, True):
        state = evaluate_cell(
            day=date(2027, 6, 14),
            now=now,
            rules=rules,
            booked=booked,
            windows=_bassens_windows(),
            service="restauration-scolaire",
        )
        assert state.reason is reason
        assert state.explanation == text
        assert (state.can_cancel if booked else state.can_book) is (reason is Reason.OK)


def test_bassens_deadline_still_applies_inside_a_window():
    rules = real_rules("bassens", "alsh-mercredi")
    windows = _bassens_windows()
    # Wednesday 19 May 2027: window open, but 7 days before is Wednesday 12 May.
    check_boundary(rules, date(2027, 5, 19), paris(2027, 5, 12, 23, 59), windows=windows)
    # The window closes before the limit: it is what the family sees.
    state = evaluate_cell(
        day=date(2027, 9, 6), now=paris(2027, 8, 20), rules=rules, booked=False, windows=windows
    )
    assert state.book_until == paris(2027, 8, 27, 18, 0)
    assert state.explanation == "modifiable jusqu'au vendredi 27 août 2027 à 18:00"
    late = evaluate_cell(
        day=date(2027, 9, 6),
        now=paris(2027, 8, 27, 18, 1),
        rules=rules,
        booked=False,
        windows=windows,
    )
    assert late.reason is Reason.OUTSIDE_WINDOW
    assert late.explanation == "hors période de réservation"


def test_bassens_without_any_published_period():
    rules = real_rules("bassens", "alsh-vacances")
    state = evaluate_cell(day=date(2027, 7, 12), now=paris(2027, 5, 2), rules=rules, booked=False)
    assert state.reason is Reason.OUTSIDE_WINDOW and not state.can_book


def test_window_for_another_service_does_not_open_this_one():
    from booking.deadlines import ReservationWindow

    rules = real_rules("bassens", "restauration-scolaire")
    window = ReservationWindow(
        opens_at=paris(2027, 5, 1), closes_at=paris(2027, 5, 31, 23, 59), services={"alsh-vacances"}
    )
    state = evaluate_cell(
        day=date(2027, 6, 14),
        now=paris(2027, 5, 2),
        rules=rules,
        booked=False,
        windows=[window],
        service="restauration-scolaire",
    )
    assert state.reason is Reason.OUTSIDE_WINDOW
    opened = evaluate_cell(
        day=date(2027, 6, 14),
        now=paris(2027, 5, 2),
        rules=rules,
        booked=False,
        windows=[window],
        service="alsh-vacances",
    )
    assert opened.can_book


def test_summer_opening_date_applies_to_a_town_without_windows_only():
    """A window with a day range (summer bookings open 1 May at 08:30) gates its
    days even for Castres' usual 7-day rule; other days are untouched."""
    from booking.deadlines import ReservationWindow

    rules = real_rules("castres", "alsh-vacances")
    summer = ReservationWindow(
        opens_at=paris(2027, 5, 1, 8, 30),
        closes_at=paris(2027, 6, 30, 23, 59),
        first_day=date(2027, 7, 5),
        last_day=date(2027, 8, 31),
    )
    early = evaluate_cell(
        day=date(2027, 7, 12), now=paris(2027, 4, 20), rules=rules, booked=False, windows=[summer]
    )
    assert early.explanation == (
        "hors période de réservation (prochaine ouverture le 1er mai 2027 à 08:30)"
    )
    opened = evaluate_cell(
        day=date(2027, 7, 12),
        now=paris(2027, 5, 1, 8, 30),
        rules=rules,
        booked=False,
        windows=[summer],
    )
    assert opened.can_book and opened.book_until == paris(2027, 6, 30, 23, 59)
    june = evaluate_cell(
        day=date(2027, 6, 16), now=paris(2027, 4, 20), rules=rules, booked=False, windows=[summer]
    )
    assert june.can_book and june.book_until == paris(2027, 6, 9, 23, 59)


# --- working days: weekends, public holidays, skipped weekdays -----------------

MOSELLE, TARN = PublicHolidays.for_department("57"), PublicHolidays.for_department("81")
WORKING_DAY_CASES = [
    # (rule, day, public holidays, expected limit day)
    (WorkingDaysBefore(1), date(2026, 5, 11), FRANCE, date(2026, 5, 7)),  # Fri 8 May skipped
    (WorkingDaysBefore(1), date(2026, 5, 4), FRANCE, date(2026, 4, 30)),  # Fri 1 May skipped
    (WorkingDaysBefore(1), date(2026, 5, 15), FRANCE, date(2026, 5, 13)),  # Ascension skipped
    (WorkingDaysBefore(1), date(2027, 5, 7), FRANCE, date(2027, 5, 5)),  # Ascension 2027
    (WorkingDaysBefore(1), date(2027, 5, 18), FRANCE, date(2027, 5, 14)),  # Whit Monday
    (WorkingDaysBefore(1), date(2027, 3, 30), FRANCE, date(2027, 3, 26)),  # Easter Monday
    (WorkingDaysBefore(1), date(2026, 5, 11), frozenset(), date(2026, 5, 8)),
    # 16 working days' notice (a town quoted in the press): four holidays in May 2026.
    (WorkingDaysBefore(16), date(2026, 5, 29), FRANCE, date(2026, 5, 4)),
    (WorkingDaysBefore(16), date(2026, 5, 29), frozenset(), date(2026, 5, 7)),
    (
        WorkingDaysBefore(3, skip_weekdays=frozenset({2})),
        date(2026, 5, 22),
        FRANCE,
        date(2026, 5, 18),
    ),
    # Alsace-Moselle: Good Friday (26 March 2027) is a public holiday in Moselle only.
    (WorkingDaysBefore(1), date(2027, 3, 30), MOSELLE, date(2027, 3, 25)),
    (WorkingDaysBefore(1), date(2027, 3, 30), TARN, date(2027, 3, 26)),
]


@pytest.mark.parametrize(("rule", "day", "holidays", "expected"), WORKING_DAY_CASES)
def test_working_days_before(rule, day, holidays, expected):
    limit = limit_for(rule, day, holidays=holidays)
    assert limit == paris(expected.year, expected.month, expected.day, 23, 59)
    rules = ServiceDeadlines(booking=rule, cancellation=rule)
    check_boundary(rules, day, limit, holidays=holidays)


def test_working_days_parsed_from_yaml():
    rules = parse_deadlines(
        {
            "booking": {
                "rule": "working_days_before",
                "days": 3,
                "time": "12:00",
                "skip_weekdays": ["wednesday"],
            }
        }
    )
    assert rules.booking == WorkingDaysBefore(3, time(12, 0), frozenset({2}))
    assert limit_for(rules.booking, date(2026, 5, 22)) == paris(2026, 5, 18, 12, 0)


# --- day of the previous month ------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "day", "limit"),
    [
        (DayOfPreviousMonth(20), date(2027, 3, 10), paris(2027, 2, 20, 23, 59)),
        (DayOfPreviousMonth(20), date(2027, 3, 31), paris(2027, 2, 20, 23, 59)),
        (DayOfPreviousMonth(1, time(12, 0)), date(2027, 1, 15), paris(2026, 12, 1, 12, 0)),
        (DayOfPreviousMonth(28), date(2027, 4, 1), paris(2027, 3, 28, 23, 59)),  # DST-start Sunday
    ],
)
def test_day_of_previous_month(rule, day, limit):
    assert limit_for(rule, day) == limit
    check_boundary(ServiceDeadlines(booking=rule, cancellation=rule), day, limit)


# --- days_before with a time: same day, DST gap and overlap ---------------------


def test_days_before_zero_allows_same_day_until_the_time():
    rule = DaysBefore(0, time(10, 0))
    check_boundary(
        ServiceDeadlines(booking=rule, cancellation=rule),
        date(2027, 3, 17),
        paris(2027, 3, 17, 10, 0),
    )


def test_donges_two_days_before_ten_oclock():
    rules = real_rules("donges", "restauration-scolaire")
    check_boundary(rules, date(2027, 3, 30), paris(2027, 3, 28, 10, 0))  # the DST-start Sunday


def test_cut_off_inside_the_dst_gap_moves_to_the_real_instant():
    # 02:30 does not exist on 28 March 2027: the limit is 03:30 CEST (same instant as 01:30 UTC).
    limit = limit_for(DaysBefore(0, time(2, 30)), date(2027, 3, 28))
    assert (limit.hour, limit.minute) == (3, 30) and limit.utcoffset() == 2 * HOUR


def test_cut_off_inside_the_dst_overlap_is_the_first_occurrence():
    rule = DaysBefore(0, time(2, 30))
    rules = ServiceDeadlines(booking=rule, cancellation=rule)
    limit = limit_for(rule, date(2027, 10, 31))
    assert limit.utcoffset() == 2 * HOUR  # CEST, the first 02:30
    first = paris(2027, 10, 31, 2, 30, 59, fold=0)
    second = paris(2027, 10, 31, 2, 30, 0, fold=1)  # one real hour later
    assert evaluate_cell(day=date(2027, 10, 31), now=first, rules=rules, booked=False).can_book
    assert not evaluate_cell(day=date(2027, 10, 31), now=second, rules=rules, booked=False).can_book


def test_now_in_another_timezone_is_the_same_instant():
    rules = real_rules("castres", "restauration-scolaire")
    # 3 March 2027 23:59:30 in Paris is 22:59:30 UTC.
    now = paris(2027, 3, 3, 23, 59, 30).astimezone(UTC)
    assert evaluate_cell(day=date(2027, 3, 10), now=now, rules=rules, booked=False).can_book
    assert not evaluate_cell(
        day=date(2027, 3, 10), now=now + timedelta(seconds=30), rules=rules, booked=False
    ).can_book


def test_naive_now_is_refused():
    from datetime import datetime

    rules = real_rules("castres", "restauration-scolaire")
    with pytest.raises(ValueError):
        evaluate_cell(day=date(2027, 3, 10), now=datetime(2027, 3, 1), rules=rules, booked=False)


# --- a separate cancellation rule, and `none` -----------------------------------


def test_separate_cancellation_rule():
    rules = parse_deadlines(
        {
            "booking": {"rule": "days_before", "days": 2, "time": "10:00"},
            "cancellation": {"rule": "working_days_before", "days": 16},
        }
    )
    day = date(2026, 5, 29)
    assert rules.separate_cancellation
    book = check_boundary(rules, day, paris(2026, 5, 27, 10, 0))[0]
    assert book.explanation == "réservable jusqu'au mercredi 27 mai 2026 à 10:00"
    cancel = check_boundary(rules, day, paris(2026, 5, 4, 23, 59), booked=True)[0]
    assert cancel.explanation == "annulable jusqu'au lundi 4 mai 2026 à 23:59"
    assert cancel.book_until == paris(2026, 5, 27, 10, 0)


def test_absent_cancellation_means_same_as_booking():
    rules = real_rules("castres", "etudes-dirigees")
    assert rules.cancellation == rules.booking and not rules.separate_cancellation


def test_cancellation_none_means_no_cancellation():
    rules = parse_deadlines(
        {"booking": {"rule": "days_before", "days": 7}, "cancellation": {"rule": "none"}}
    )
    booked = evaluate_cell(day=date(2027, 3, 17), now=paris(2027, 3, 1), rules=rules, booked=True)
    assert booked.reason is Reason.CANCELLATION_NOT_ALLOWED and not booked.can_cancel
    assert booked.cancel_until is None
    assert booked.explanation == "annulation impossible en ligne : contactez le service"
    free = evaluate_cell(day=date(2027, 3, 17), now=paris(2027, 3, 1), rules=rules, booked=False)
    assert free.can_book
    assert free.explanation == (
        "réservable jusqu'au mercredi 10 mars 2027 à 23:59 (annulation impossible ensuite en ligne)"
    )


def test_booking_none_means_no_online_booking():
    rules = parse_deadlines(
        {"booking": {"rule": "none"}, "cancellation": {"rule": "days_before", "days": 14}}
    )
    assert limit_for(NotOnline(), date(2027, 3, 17)) is None
    free = evaluate_cell(day=date(2027, 3, 17), now=paris(2027, 3, 1), rules=rules, booked=False)
    assert free.reason is Reason.BOOKING_NOT_ALLOWED and not free.can_book
    # Regular crèche care: places are allocated, families may still declare days off.
    booked = evaluate_cell(day=date(2027, 3, 31), now=paris(2027, 3, 1), rules=rules, booked=True)
    assert booked.can_cancel
    assert booked.explanation == "annulable jusqu'au mercredi 17 mars 2027 à 23:59"


# --- the other reasons ---------------------------------------------------------


def _castres(**kw):
    rules = kw.pop("rules", None) or real_rules("castres", "alsh-mercredi")
    kw.setdefault("day", date(2027, 3, 17))
    kw.setdefault("now", paris(2027, 3, 1, 9))
    kw.setdefault("booked", False)
    return evaluate_cell(rules=rules, **kw)


@pytest.mark.parametrize(
    ("kw", "reason", "text"),
    [
        ({"is_open": False}, Reason.CLOSED, "pas d'accueil ce jour-là"),
        ({"is_open": False, "booked": True}, Reason.CLOSED, "pas d'accueil ce jour-là"),
        ({"full": True}, Reason.FULL_WAITING_LIST, "complet — liste d'attente possible"),
        ({"registered": False}, Reason.NOT_REGISTERED, "inscription au service pas encore validée"),
        ({"day": date(2027, 2, 24)}, Reason.PAST_DAY, "journée passée"),
        ({"day": date(2027, 2, 24), "booked": True}, Reason.PAST_DAY, "journée passée"),
        # Full but past the deadline: the waiting list cannot help any more.
        (
            {"full": True, "now": paris(2027, 3, 12)},
            Reason.PAST_DEADLINE,
            "délai dépassé depuis le mercredi 10 mars 2027 à 23:59",
        ),
    ],
)
def test_other_reasons(kw, reason, text):
    state = _castres(**kw)
    assert state.reason is reason
    assert state.explanation == text
    assert not state.can_book and not state.can_cancel
    assert state.waiting_list is (reason is Reason.FULL_WAITING_LIST)


def test_full_day_can_still_be_cancelled_by_whoever_booked_it():
    state = _castres(full=True, booked=True)
    assert state.can_cancel and state.reason is Reason.OK


def test_max_advance_days():
    rules = parse_deadlines({"booking": {"rule": "days_before", "days": 7}, "max_advance_days": 60})
    day = date(2027, 6, 30)
    far = _castres(rules=rules, day=day, now=paris(2027, 4, 30, 23, 59))  # 61 days ahead
    assert far.reason is Reason.TOO_FAR_AHEAD and not far.can_book
    assert far.explanation == "réservation possible à partir du samedi 1er mai 2027"
    assert _castres(rules=rules, day=day, now=paris(2027, 5, 1, 0, 0)).can_book
    # Too far to book is no reason to keep a booking one no longer wants.
    assert _castres(rules=rules, day=day, now=paris(2027, 4, 1), booked=True).can_cancel


def test_same_day_is_not_a_past_day():
    rule = DaysBefore(0, time(10, 0))
    rules = ServiceDeadlines(booking=rule, cancellation=rule)
    state = _castres(rules=rules, day=date(2027, 3, 17), now=paris(2027, 3, 17, 11))
    assert state.reason is Reason.PAST_DEADLINE


def test_hours_before_explanation():
    state = _castres(rules=real_rules("chalonnes", "aps"), day=date(2027, 3, 30))
    assert state.explanation == "modifiable jusqu'au vendredi 26 mars 2027 à 22:59"


def test_limit_helpers_agree_with_hours():
    assert limit_for(HoursBefore(1), date(2027, 3, 17)) == paris(2027, 3, 16, 22, 59)
    assert US == timedelta(microseconds=1)
