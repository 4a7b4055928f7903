"""Capacity under real concurrency: real threads, each with its own PostgreSQL
connection, hitting the same day at once.

These tests need COMMITTED rows (other connections cannot see a test's
rolled-back transaction), and `transaction=True` would flush the public schema
the session towns live in. So rows are written by a helper thread on its own
connection (autocommit) in Castres' schema, and deleted afterwards; the test's
own connection only reads (READ COMMITTED sees them).
"""

from __future__ import annotations

import random
from collections import Counter
from contextlib import contextmanager
from datetime import date

import pytest
from django.db import connection

from booking.models import Activity, Booking, DaySlot, WaitingListEntry
from booking.services import DayStatus, book_days, cancel_booking
from booking.tests.helpers import paris
from tests.support import in_own_connection, run_in_threads

pytestmark = pytest.mark.django_db

EARLY = paris(2027, 3, 1, 9)
DAYS = (date(2027, 3, 17), date(2027, 3, 24), date(2027, 3, 31))
NAME = "Test de concurrence"


@contextmanager
def committed_castres(castres, n_children: int, capacity: int, days=DAYS[:1]):
    from core.models import Service
    from families.models import Child, Household

    def setup():
        household = Household.objects.create(name=NAME)
        activity = Activity.objects.create(
            service=Service.objects.get(code="alsh-mercredi"), name=NAME, default_capacity=capacity
        )
        children = Child.objects.bulk_create(
            Child(
                household=household,
                first_name=f"Enfant{i}",
                last_name="Test",
                birth_date=date(2018, 1, 1),
            )
            for i in range(n_children)
        )
        slots = [DaySlot.objects.create(activity=activity, day=d, capacity=capacity) for d in days]
        return activity, children, slots

    def cleanup():
        Booking.objects.filter(slot__activity__name=NAME).delete()
        WaitingListEntry.objects.filter(slot__activity__name=NAME).delete()
        DaySlot.objects.filter(activity__name=NAME).delete()
        Activity.objects.filter(name=NAME).delete()
        Child.objects.filter(household__name=NAME).delete()
        Household.objects.filter(name=NAME).delete()

    try:
        activity, children, slots = in_own_connection(castres, setup)
        connection.set_tenant(castres)
        yield activity, children, slots
    finally:
        in_own_connection(castres, cleanup)
        connection.set_tenant(castres)
        assert not Activity.objects.filter(name=NAME).exists()
        connection.set_schema_to_public()


def run_together(castres, jobs):
    """Run each job in its own thread and connection, released at the same instant."""
    results = run_in_threads(castres, jobs)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return results


def test_capacity_plus_fifty_simultaneous_bookings(castres):
    capacity, extra = 5, 50
    day = DAYS[0]
    with committed_castres(castres, capacity + extra, capacity) as (activity, children, (slot,)):
        results = run_together(
            castres,
            [
                (
                    lambda child=child: book_days(
                        child=child, activity=activity, days=[day], now=EARLY
                    )
                )
                for child in children
            ],
        )
        outcomes = Counter(r.days[0].status for r in results)
        assert outcomes == {DayStatus.BOOKED: capacity, DayStatus.FULL: extra}
        slot.refresh_from_db()
        assert slot.booked == capacity
        assert Booking.objects.filter(slot=slot, status=Booking.Status.BOOKED).count() == capacity


def test_several_days_in_any_order_never_deadlock(castres):
    """Each family ticks the same three days in its own order; the service takes
    them in date order, so PostgreSQL never has to break a deadlock."""
    capacity, families = 8, 20
    with committed_castres(castres, families, capacity, days=DAYS) as (activity, children, slots):
        rng = random.Random(2027)
        jobs = []
        for child in children:
            days = list(DAYS)
            rng.shuffle(days)
            jobs.append(
                lambda child=child, days=days: book_days(
                    child=child, activity=activity, days=days, now=EARLY
                )
            )
        results = run_together(castres, jobs)
        per_day = Counter(d.day for r in results for d in r.days if d.status is DayStatus.BOOKED)
        assert per_day == {d: capacity for d in DAYS}
        for slot in slots:
            slot.refresh_from_db()
            assert slot.booked == capacity


def test_simultaneous_cancellations_promote_distinct_children_in_order(castres):
    capacity, waiting = 5, 8
    day = DAYS[0]
    with committed_castres(castres, capacity + waiting, capacity) as (activity, children, (slot,)):
        booked, queue = children[:capacity], children[capacity:]

        def fill():
            for child in booked:
                book_days(child=child, activity=activity, days=[day], now=EARLY)
            for child in queue:  # one after the other: a known order
                book_days(
                    child=child, activity=activity, days=[day], now=EARLY, join_waiting_list=True
                )

        in_own_connection(castres, fill)
        bookings = list(Booking.objects.filter(slot=slot, status=Booking.Status.BOOKED))
        results = run_together(
            castres, [(lambda b=b: cancel_booking(booking=b, now=EARLY)) for b in bookings]
        )
        promoted = {r.promoted.child_id for r in results}
        assert promoted == {c.id for c in queue[:capacity]}  # the first five, each once
        slot.refresh_from_db()
        assert slot.booked == capacity
        assert Booking.objects.filter(slot=slot, status=Booking.Status.BOOKED).count() == capacity
        assert (
            WaitingListEntry.objects.filter(
                slot=slot, status=WaitingListEntry.Status.WAITING
            ).count()
            == waiting - capacity
        )
