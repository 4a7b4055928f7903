"""The booking write path's SQL count does not grow with the number of days
or children (issue #19): a submission that only books is read in 2 queries
(1 when the caller read the registrations with the children), written in ONE
conditional UPDATE and ONE INSERT, plus its receipt."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.changes import apply_changes
from booking.models import Booking, DaySlot
from booking.rules import Action, Change
from booking.services import book_days
from booking.tests.conftest import DAYS
from booking.tests.helpers import paris

EARLY = paris(2027, 3, 1, 9)


def _changes(fam, children, days):
    return [Change(c.pk, fam.activity.pk, d, Action.BOOK) for c in children for d in days]


@contextmanager
def at_most(n: int):
    """Like django_assert_max_num_queries, counting only the statements that
    read or write rows: the test's savepoints and django-tenants' `SET
    search_path` (once per request in production) are not the booking's."""
    with CaptureQueriesContext(connection) as ctx:
        yield ctx
    data = [
        q["sql"]
        for q in ctx.captured_queries
        if not q["sql"]
        .lstrip()
        .startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "SET search_path"))
    ]
    assert len(data) <= n, f"{len(data)} statements > {n}:\n" + "\n".join(x[:150] for x in data)


def _warm(fam):
    """The town's periods and calendar are cached per process: load them once."""
    from booking import selectors

    selectors.town_data()


@pytest.mark.parametrize("n_children,n_days", [(1, 1), (2, 6)])
def test_apply_changes_books_in_a_constant_number_of_queries(meals, in_town, n_children, n_days):
    with in_town(meals.commune):
        _warm(meals)
        kids = meals.children[:n_children]
        # slots with live bookings, registrations; UPDATE; INSERT; receipt; e-mail outbox
        with at_most(6):
            result = apply_changes(
                children={c.pk: c for c in kids},
                service=meals.service,
                changes=_changes(meals, kids, DAYS[:n_days]),
                user=meals.user,
                household=kids[0].household,
                now=EARLY,
            )
        assert len(result.booked) == n_children * n_days
        assert Booking.objects.filter(slot__activity=meals.activity).count() == len(result.booked)
        for slot in DaySlot.objects.filter(activity=meals.activity, day__in=DAYS[:n_days]):
            assert slot.booked == n_children


def test_a_refusal_as_full_costs_no_write(meals, in_town):
    from booking.changes import ChangesRefused

    with in_town(meals.commune):
        _warm(meals)
        DaySlot.objects.filter(activity=meals.activity).update(booked=3)
        kids = meals.children
        with at_most(2), pytest.raises(ChangesRefused) as refused:
            apply_changes(
                children={c.pk: c for c in kids},
                service=meals.service,
                changes=_changes(meals, kids, DAYS[2:4]),
                user=meals.user,
                household=kids[0].household,
                now=EARLY,
            )
        assert refused.value.only_full
        assert not Booking.objects.exists()


@pytest.mark.parametrize("n_days", [1, 6])
def test_book_days_in_a_constant_number_of_queries(meals, in_town, n_days):
    with in_town(meals.commune):
        _warm(meals)
        child = meals.children[0]
        activity = type(meals.activity).objects.select_related("service").get(pk=meals.activity.pk)
        with at_most(3):  # slots with the live bookings, UPDATE, INSERT
            result = book_days(child=child, activity=activity, days=DAYS[:n_days], now=EARLY)
        assert len(result.booked) == n_days


def test_book_days_full_day_and_double_booking_keep_counters_right(meals, in_town):
    with in_town(meals.commune):
        child, other = meals.children
        DaySlot.objects.filter(activity=meals.activity, day=DAYS[2]).update(booked=3)
        first = book_days(child=child, activity=meals.activity, days=DAYS[2:4], now=EARLY)
        assert [d.status.value for d in first.days] == ["full", "booked"]
        again = book_days(child=child, activity=meals.activity, days=DAYS[3:4], now=EARLY)
        assert [d.status.value for d in again.days] == ["already_booked"]
        slot = DaySlot.objects.get(activity=meals.activity, day=DAYS[3])
        assert slot.booked == 1 == Booking.objects.filter(slot=slot).count()
