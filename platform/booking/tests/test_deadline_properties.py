"""Properties of the deadline engine over every valid rule (hypothesis).

Rules are generated as YAML dicts, within tenant_configs/schema.json, then parsed:
what a town may write is what is exercised.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from booking.deadlines import (
    WEEKDAY_CODES,
    DaysBefore,
    NotOnline,
    Reason,
    ReservationWindow,
    evaluate_cell,
    limit_for,
    parse_deadlines,
    start_of_day,
)
from booking.french import PARIS

times = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
weekdays = st.sampled_from(WEEKDAY_CODES)


def _with_time(base: dict, t) -> dict:
    return base if t is None else {**base, "time": t}


rule_dicts = st.one_of(
    st.builds(
        lambda n, t: _with_time({"rule": "days_before", "days": n}, t),
        st.integers(0, 365),
        st.none() | times,
    ),
    st.builds(lambda n: {"rule": "hours_before", "hours": n}, st.integers(1, 8760)),
    st.builds(
        lambda n, t, skip: _with_time(
            {"rule": "working_days_before", "days": n, **({"skip_weekdays": skip} if skip else {})},
            t,
        ),
        st.integers(1, 120),
        st.none() | times,
        # At least one of Monday..Friday must remain a working day.
        st.lists(weekdays, unique=True, max_size=7).filter(
            lambda s: not {"monday", "tuesday", "wednesday", "thursday", "friday"} <= set(s)
        ),
    ),
    st.builds(
        lambda w, t: _with_time({"rule": "weekday_previous_week", "weekday": w}, t),
        weekdays,
        st.none() | times,
    ),
    st.builds(
        lambda n, t: _with_time({"rule": "day_of_previous_month", "day": n}, t),
        st.integers(1, 28),
        st.none() | times,
    ),
    st.builds(
        lambda n, t: _with_time({"rule": "weeks_before_session", "weeks": n}, t),
        st.integers(1, 26),
        st.none() | times,
    ),
    st.just({"rule": "none"}),
)


@st.composite
def deadline_sections(draw, *, windows_only=None, max_advance=None):
    data = {"booking": draw(rule_dicts)}
    if draw(st.booleans()):
        data["cancellation"] = draw(rule_dicts)
    if windows_only is None:
        if draw(st.booleans()):
            data["windows_only"] = draw(st.booleans())
    elif windows_only:
        data["windows_only"] = True
    if max_advance is None:
        if draw(st.booleans()):
            data["max_advance_days"] = draw(st.integers(1, 730))
    return data


days = st.dates(date(2001, 1, 1), date(2098, 12, 31))
# Instants as UTC offsets around the day, with microseconds, so that the last
# second before a limit and DST nights are reached.
zones = st.sampled_from([PARIS, UTC, ZoneInfo("America/Cayenne"), ZoneInfo("Asia/Tokyo")])


@st.composite
def instants(draw, around: date, near: datetime | None = None):
    """An aware instant: within a few minutes of `near` (the edge of a limit),
    or anywhere from 400 days before `around` to 3 days after, in any zone."""
    if near is not None and draw(st.booleans()):
        base = near.astimezone(UTC) + timedelta(minutes=1)
        offset = draw(st.integers(-5 * 60 * 10**6, 5 * 60 * 10**6))
    else:
        base = datetime.combine(around, datetime.min.time(), tzinfo=UTC)
        offset = draw(st.integers(-400, 3)) * 86_400 * 10**6 + draw(st.integers(0, 86_400 * 10**6))
    return (base + timedelta(microseconds=offset)).astimezone(draw(zones))


mostly_true = st.sampled_from([True, True, True, False])
mostly_false = st.sampled_from([False, False, False, True])


@st.composite
def session_starts(draw, day: date):
    return day - timedelta(days=draw(st.integers(0, 70)))


def _editable(state, booked: bool) -> bool:
    return state.can_cancel if booked else state.can_book


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    section=deadline_sections(windows_only=False, max_advance=False),
    day=days,
    booked=st.booleans(),
    full=mostly_false,
    registered=mostly_true,
    is_open=mostly_true,
)
def test_editable_at_t_means_editable_at_any_earlier_time(
    data, section, day, booked, full, registered, is_open
):
    """Without reservation windows and max_advance_days (both open LATER by
    design), the deadline only ever closes a cell."""
    rules = parse_deadlines(section)
    session_start = data.draw(session_starts(day))
    rule = rules.cancellation if booked else rules.booking
    limit = limit_for(rule, day, session_start=session_start)
    t = data.draw(instants(day, near=limit))
    earlier = t - timedelta(
        microseconds=data.draw(
            st.integers(0, 10 * 60 * 10**6) | st.integers(0, 400 * 86_400 * 10**6)
        )
    )
    kw = dict(
        day=day,
        rules=rules,
        booked=booked,
        session_start=session_start,
        full=full,
        registered=registered,
        is_open=is_open,
    )
    editable = _editable(evaluate_cell(now=t, **kw), booked)
    event(f"editable at t: {editable}")
    if editable:
        assert _editable(evaluate_cell(now=earlier, **kw), booked)


@settings(max_examples=500, deadline=None)
@given(data=st.data(), rule=rule_dicts, day=days)
def test_limit_is_strictly_before_the_day(data, rule, day):
    """The last allowed minute ends at or before 00:00 of the day (so it is
    strictly before the day starts); only days_before 0 reaches into the day."""
    parsed = parse_deadlines({"booking": rule}).booking
    limit = limit_for(parsed, day, session_start=data.draw(session_starts(day)))
    if isinstance(parsed, NotOnline):
        assert limit is None
        return
    assert limit.tzinfo is not None and limit.second == 0 and limit.microsecond == 0
    end = limit.astimezone(UTC) + timedelta(minutes=1)
    if isinstance(parsed, DaysBefore) and parsed.days == 0:
        assert limit.astimezone(PARIS).date() == day
    else:
        assert end <= start_of_day(day).astimezone(UTC)
        assert limit.astimezone(UTC) < start_of_day(day).astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(hours=st.integers(1, 8760), day=days)
def test_hours_are_real_elapsed_hours(hours, day):
    rule = parse_deadlines({"booking": {"rule": "hours_before", "hours": hours}}).booking
    limit = limit_for(rule, day)
    elapsed = start_of_day(day).astimezone(UTC) - limit.astimezone(UTC)
    assert elapsed == timedelta(hours=hours, minutes=1)


@settings(max_examples=300, deadline=None)
@given(rule=rule_dicts.filter(lambda r: r["rule"] not in ("hours_before", "none")), day=days)
def test_days_rules_keep_their_wall_clock_time_across_dst(rule, day):
    parsed = parse_deadlines({"booking": rule}).booking
    limit = limit_for(parsed, day).astimezone(PARIS)
    t = parsed.time
    # 02:00-02:59 does not exist on the last Sunday of March (moves to 03:xx).
    assume(not (t.hour == 2 and limit.month == 3 and limit.hour == 3))
    assert (limit.hour, limit.minute) == (t.hour, t.minute)


@st.composite
def windows(draw, around: date, now: datetime):
    out = []
    for _ in range(draw(st.integers(0, 3))):
        opens = now + timedelta(minutes=draw(st.integers(-60 * 24 * 60, 30 * 24 * 60)))
        closes = opens + timedelta(minutes=draw(st.integers(0, 90 * 24 * 60)))
        first = draw(st.none() | st.just(around - timedelta(days=draw(st.integers(0, 30)))))
        last = draw(st.none() | st.just(around + timedelta(days=draw(st.integers(0, 30)))))
        services = draw(st.sets(st.sampled_from(["cantine", "alsh"]), max_size=2))
        out.append(
            ReservationWindow(
                opens_at=opens, closes_at=closes, services=services, first_day=first, last_day=last
            )
        )
    return out


@settings(max_examples=500, deadline=None)
@given(
    data=st.data(),
    section=deadline_sections(),
    day=days,
    booked=st.booleans(),
    full=mostly_false,
    registered=mostly_true,
    is_open=mostly_true,
    service=st.sampled_from([None, "cantine", "alsh"]),
)
def test_evaluation_never_raises_and_is_coherent(
    data, section, day, booked, full, registered, is_open, service
):
    rules = parse_deadlines(section)
    session_start = data.draw(session_starts(day))
    limit = limit_for(
        rules.cancellation if booked else rules.booking, day, session_start=session_start
    )
    now = data.draw(instants(day, near=limit))
    state = evaluate_cell(
        day=day,
        now=now,
        rules=rules,
        booked=booked,
        session_start=session_start,
        windows=data.draw(windows(day, now)),
        is_open=is_open,
        full=full,
        registered=registered,
        service=service,
    )
    assert isinstance(state.reason, Reason)
    event(f"reason: {state.reason}")
    assert state.explanation and "None" not in state.explanation
    assert not (state.can_book and state.can_cancel)
    assert _editable(state, booked) is (state.reason is Reason.OK)
    if booked:
        assert not state.can_book and not state.waiting_list
    else:
        assert not state.can_cancel
    assert state.waiting_list is (state.reason is Reason.FULL_WAITING_LIST)
    if state.reason is Reason.OK:
        assert "jusqu'au" in state.explanation
