"""Bookings, capacity and waiting list in Castres' schema (real PostgreSQL).

`now` is passed explicitly (frozen time): Castres' ALSH mercredi closes a day
7 days before it, at 23:59.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from booking.calendar import DayKind, TownCalendar
from booking.deadlines import Reason
from booking.models import Activity, Booking, DaySlot, ReservationPeriod, WaitingListEntry
from booking.selectors import calendar_cells
from booking.services import (
    BookingRefused,
    DayStatus,
    book_days,
    cancel_booking,
    change_capacity,
    leave_waiting_list,
    open_days,
)
from booking.tests.helpers import paris
from tests.factories import ChildFactory

WED_17, WED_24, WED_31 = date(2027, 3, 17), date(2027, 3, 24), date(2027, 3, 31)
EARLY = paris(2027, 3, 1, 9)


@pytest.fixture
def martin(family, in_town):
    """Famille Martin à Castres, and the ALSH du mercredi with 2 places a day."""
    from core.models import Service

    with in_town(family.commune):
        activity = Activity.objects.create(
            service=Service.objects.get(code="alsh-mercredi"),
            name="ALSH Lardaillé",
            default_capacity=2,
        )
        for day in (WED_17, WED_24, WED_31):
            DaySlot.objects.create(activity=activity, day=day, capacity=2)
        family.activity = activity
        yield family


def _book(family, child, day):
    return book_days(child=child, activity=family.activity, days=[day], now=EARLY).days[0].booking


def _slot(activity, day):
    return DaySlot.objects.get(activity=activity, day=day)


def test_book_several_days(martin):
    lea = martin.children[0]
    result = book_days(
        child=lea,
        activity=martin.activity,
        days=[WED_24, WED_17, WED_17],
        now=EARLY,
        created_by=martin.user,
    )
    assert result.booked == [WED_17, WED_24]
    assert _slot(martin.activity, WED_17).booked == 1
    again = book_days(child=lea, activity=martin.activity, days=[WED_17], now=EARLY)
    assert again.with_status(DayStatus.ALREADY_BOOKED) == [WED_17]
    assert _slot(martin.activity, WED_17).booked == 1


def test_closed_day_and_deadline_are_refused_in_french(martin):
    lea = martin.children[0]
    result = book_days(
        child=lea,
        activity=martin.activity,
        days=[date(2027, 3, 18), WED_17],
        now=paris(2027, 3, 11, 0, 0),
    )
    assert [(d.day, d.status, d.message) for d in result.days] == [
        (WED_17, DayStatus.REFUSED, "délai dépassé depuis le mercredi 10 mars 2027 à 23:59"),
        (date(2027, 3, 18), DayStatus.REFUSED, "pas d'accueil ce jour-là"),
    ]
    assert not Booking.objects.exists()
    # Staff may still book after the deadline (the town's own desk).
    staff = book_days(
        child=lea, activity=martin.activity, days=[WED_17], now=paris(2027, 3, 11), staff=True
    )
    assert staff.booked == [WED_17]


def test_full_day_offers_the_waiting_list_and_promotes_on_cancellation(martin):
    lea, hugo = martin.children
    other = ChildFactory()
    book_days(child=lea, activity=martin.activity, days=[WED_17], now=EARLY)
    book_days(child=other, activity=martin.activity, days=[WED_17], now=EARLY)
    full = book_days(child=hugo, activity=martin.activity, days=[WED_17], now=EARLY)
    assert full.days[0].status is DayStatus.FULL
    assert full.days[0].message == "complet — liste d'attente possible"

    waiting = book_days(
        child=hugo, activity=martin.activity, days=[WED_17], now=EARLY, join_waiting_list=True
    )
    assert waiting.days[0].status is DayStatus.WAITING_LIST
    # Asking twice keeps one entry.
    book_days(
        child=hugo, activity=martin.activity, days=[WED_17], now=EARLY, join_waiting_list=True
    )
    assert WaitingListEntry.objects.filter(child=hugo).count() == 1

    cells = {
        c.day: c
        for c in calendar_cells(
            child=hugo, activity=martin.activity, start=WED_17, end=WED_31, now=EARLY
        )
    }
    assert cells[WED_17].state.reason is Reason.FULL_WAITING_LIST
    assert cells[WED_24].state.can_book

    lea_booking = Booking.objects.get(child=lea)
    result = cancel_booking(booking=lea_booking, now=EARLY)
    assert result.promoted is not None and result.promoted.child_id == hugo.id
    assert result.promoted.from_waiting_list
    assert _slot(martin.activity, WED_17).booked == 2  # the place changed hands
    assert WaitingListEntry.objects.get(child=hugo).status == WaitingListEntry.Status.PROMOTED


def test_cancellation_without_waiting_list_frees_the_place(martin):
    lea = martin.children[0]
    booking = _book(martin, lea, WED_17)
    result = cancel_booking(booking=booking, now=EARLY)
    assert result.promoted is None
    assert _slot(martin.activity, WED_17).booked == 0
    with pytest.raises(BookingRefused, match="déjà annulée"):
        cancel_booking(booking=booking, now=EARLY)
    # Booking the day again after cancelling it is fine (the old row stays as history).
    assert _book(martin, lea, WED_17) is not None


def test_cancellation_after_the_deadline_is_refused_and_changes_nothing(martin):
    lea = martin.children[0]
    booking = _book(martin, lea, WED_17)
    with pytest.raises(BookingRefused) as exc:
        cancel_booking(booking=booking, now=paris(2027, 3, 11, 0, 0))
    assert str(exc.value) == (
        "Annulation impossible : délai dépassé depuis le mercredi 10 mars 2027 à 23:59."
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
    assert _slot(martin.activity, WED_17).booked == 1
    assert cancel_booking(booking=booking, now=paris(2027, 3, 11), staff=True).booking.status == (
        Booking.Status.CANCELLED
    )


def test_the_database_refuses_overbooking(martin):
    slot = _slot(martin.activity, WED_17)
    with pytest.raises(IntegrityError), transaction.atomic():
        DaySlot.objects.filter(pk=slot.pk).update(booked=3)


def test_more_places_go_to_the_waiting_list_first(martin):
    lea, hugo = martin.children
    others = [ChildFactory(), ChildFactory()]
    for child in others:
        book_days(child=child, activity=martin.activity, days=[WED_24], now=EARLY)
    for child in (lea, hugo):
        book_days(
            child=child, activity=martin.activity, days=[WED_24], now=EARLY, join_waiting_list=True
        )
    slot = _slot(martin.activity, WED_24)
    with pytest.raises(BookingRefused, match="2 enfants sont déjà inscrits"):
        change_capacity(slot=slot, capacity=1)
    promoted = change_capacity(slot=slot, capacity=3)
    assert [b.child_id for b in promoted] == [lea.id]  # first come, first served
    slot.refresh_from_db()
    assert (slot.booked, slot.capacity) == (3, 3)
    entry = WaitingListEntry.objects.get(child=hugo)
    leave_waiting_list(entry=entry)
    with pytest.raises(BookingRefused):
        leave_waiting_list(entry=entry)


def test_summer_reservation_period_gates_its_days(martin):
    from core.models import Service

    period = ReservationPeriod.objects.create(
        label="Été 2027",
        opens_at=paris(2027, 3, 5, 8, 30),
        closes_at=paris(2027, 3, 9, 23, 59),
        first_day=WED_24,
        last_day=WED_31,
    )
    period.services.add(Service.objects.get(code="alsh-mercredi"))
    lea = martin.children[0]
    result = book_days(child=lea, activity=martin.activity, days=[WED_17, WED_24], now=EARLY)
    assert result.booked == [WED_17]
    assert result.days[1].message == (
        "hors période de réservation (prochaine ouverture le 5 mars 2027 à 08:30)"
    )
    assert book_days(
        child=lea, activity=martin.activity, days=[WED_24], now=paris(2027, 3, 5, 8, 30)
    ).booked == [WED_24]


def test_open_days_from_the_town_calendar(castres, in_town):
    from core.models import Service

    with in_town(castres):
        activity = Activity.objects.create(
            service=Service.objects.get(code="alsh-vacances"),
            name="ALSH Toussaint",
            default_capacity=24,
        )
        calendar = TownCalendar(zone="C")
        created = open_days(
            activity=activity,
            calendar=calendar,
            start=date(2027, 10, 18),
            end=date(2027, 11, 12),
            kinds=[DayKind.HOLIDAYS],
        )
        assert created == 9  # 25 Oct - 5 Nov 2027, minus 1 November
        assert (
            open_days(
                activity=activity,
                calendar=calendar,
                start=date(2027, 10, 18),
                end=date(2027, 11, 12),
                kinds=[DayKind.HOLIDAYS],
            )
            == 0
        )
        days = list(DaySlot.objects.filter(activity=activity).values_list("day", flat=True))
        assert days[0] == date(2027, 10, 25) and date(2027, 11, 1) not in days
        assert {s.capacity for s in DaySlot.objects.filter(activity=activity)} == {24}


def test_bondoufle_holiday_session_limit_through_the_service(bondoufle, in_town):
    """weeks_before_session reads the session start from the town's zone (C)."""
    from core.models import Service

    with in_town(bondoufle):
        child = ChildFactory()
        activity = Activity.objects.create(
            service=Service.objects.get(code="alsh-vacances"), name="Vacances", default_capacity=10
        )
        DaySlot.objects.create(activity=activity, day=date(2027, 11, 3), capacity=10)
        late = book_days(
            child=child, activity=activity, days=[date(2027, 11, 3)], now=paris(2027, 9, 28, 0, 0)
        )
        assert late.days[0].message == "délai dépassé depuis le lundi 27 septembre 2027 à 23:59"
        ok = book_days(
            child=child,
            activity=activity,
            days=[date(2027, 11, 3)],
            now=paris(2027, 9, 27, 23, 59, 59),
        )
        assert ok.booked == [date(2027, 11, 3)]
