"""The basket of changes (booking.basket): pure rules, the price difference from
the town's billing rules, all-or-nothing PER SERVICE, and two overlapping
confirmations at the same instant (committed rows, helper threads)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from booking.basket import (
    BasketLine,
    by_service,
    change_key,
    confirm_basket,
    parse_key,
    parse_keys,
    price_difference,
    read_basket,
    remaining,
    toggle,
)
from booking.models import Activity, Booking, ChangeSet, DaySlot, Registration
from booking.rules import Action, Change
from booking.tests.conftest import DAYS, MON_15, THU_18, TUE_16, evening_care
from booking.tests.helpers import paris
from tenants.testing import edit_town_config, module_switched_off
from tests.support import in_own_connection, run_in_threads

EARLY = paris(2027, 3, 1, 9)
B, C = Action.BOOK, Action.CANCEL


# --- pure -------------------------------------------------------------------------------


def test_keys_round_trip_and_junk_is_dropped():
    ch = Change(3, 7, date(2027, 3, 15), B)
    assert change_key(ch) == "3:7:2027-03-15:book"
    assert parse_key(change_key(ch)) == ch
    for junk in ("", "a:b:c:d", "1:2:2027-02-30:book", "1:2:2027-03-01:steal", "1:2:3", None):
        assert parse_key(junk) is None
    assert parse_keys(["3:7:2027-03-15:book", "x", "3:7:2027-03-15:book"]) == [ch]


def test_toggle_adds_removes_and_opposites_cancel_out():
    d = date(2027, 3, 15)
    book, cancel = Change(1, 2, d, B), Change(1, 2, d, C)
    other = Change(2, 2, d, B)
    assert toggle([], [book, other]) == [book, other]
    assert toggle([book, other], [cancel]) == [other]  # booking then cancelling: nothing
    assert toggle([book, other], [], dropped=[book]) == [other]
    assert toggle([book], [], dropped=[cancel]) == [book]  # only the exact change is dropped


def test_grouping_by_service_drops_unknown_activities():
    d = date(2027, 3, 15)
    changes = [Change(1, 10, d, B), Change(1, 11, d, B), Change(2, 10, d, C), Change(1, 99, d, B)]
    assert by_service(changes, {10: 1, 11: 2}) == {
        1: [Change(1, 10, d, B), Change(2, 10, d, C)],
        2: [Change(1, 11, d, B)],
    }


def test_price_difference_adds_bookings_and_subtracts_cancellations():
    d = date(2027, 3, 15)

    def line(action, price):
        return BasketLine(Change(1, 1, d, action), "Léa", "Cantine", "c", "site", price)

    lines = [line(B, Decimal("2.10")), line(B, Decimal("1.89")), line(C, Decimal("0.50"))]
    assert price_difference(lines) == Decimal("3.49")
    assert price_difference([line(B, None)]) == 0  # a day without a known price adds nothing


# --- with the database ------------------------------------------------------------------


@pytest.fixture
def two_services(meals, in_town):
    """The Martins registered to Castres' restaurant AND evening care (centre)."""
    with in_town(meals.commune):
        meals.evening_service, meals.evening = evening_care(meals, capacity=1)
        yield meals


def _children(fam):
    return {c.pk: c for c in fam.children}


def test_basket_is_priced_from_billing_with_the_sibling_reduction(two_services, in_town):
    fam = two_services
    lea, hugo = fam.children
    with in_town(fam.commune):
        fam.household.quotient_familial = 480
        fam.household.city = fam.commune.name
        fam.household.save()
        changes = [
            Change(lea.pk, fam.activity.pk, MON_15, B),
            Change(hugo.pk, fam.activity.pk, MON_15, B),
        ]
        basket = read_basket(changes, children=_children(fam), household=fam.household)
    prices = sorted(line.price for line in basket.lines)
    assert all(p is not None and p > 0 for p in prices)
    assert prices[0] < prices[1]  # the younger child's −10 %
    assert basket.total == sum(prices)
    assert any("2e enfant" in line.explanation for line in basket.lines)


def test_basket_without_billing_has_no_price(two_services, in_town):
    fam = two_services
    lea = fam.children[0]
    with in_town(fam.commune):
        edit_town_config(fam.commune, module_switched_off("billing"))
        changes = [Change(lea.pk, fam.activity.pk, MON_15, B)]
        basket = read_basket(changes, children=_children(fam), household=fam.household)
    assert [line.price for line in basket.lines] == [None]
    assert not basket.priced


def test_another_family_s_child_never_enters_the_basket(two_services, in_town):
    fam = two_services
    with in_town(fam.commune):
        stranger = Change(999_999, fam.activity.pk, MON_15, B)
        basket = read_basket([stranger], children=_children(fam), household=fam.household)
        outcomes = confirm_basket(children=_children(fam), changes=[stranger], now=EARLY)
    assert len(basket) == 0 and outcomes == []


def test_one_confirmation_books_both_services_for_both_children(
    two_services, in_town, django_capture_on_commit_callbacks
):
    from django.core import mail

    fam = two_services
    lea, hugo = fam.children
    with in_town(fam.commune), django_capture_on_commit_callbacks(execute=True):
        changes = [
            Change(child.pk, act.pk, d, B)
            for child in (lea, hugo)
            for act in (fam.activity, fam.evening)
            for d in (MON_15, TUE_16)
            if not (act == fam.evening and child == hugo)  # 1 evening place a day
        ]
        outcomes = confirm_basket(
            children=_children(fam),
            changes=changes,
            user=fam.user,
            household=fam.household,
            now=EARLY,
        )
        assert [o.ok for o in outcomes] == [True, True]
        assert Booking.objects.filter(status="booked").count() == 6
        assert ChangeSet.objects.count() == 2  # one receipt per service, as on the grid
    assert len(mail.outbox) == 2


def test_a_refused_service_keeps_nothing_and_the_others_keep_everything(two_services, in_town):
    fam = two_services
    lea, hugo = fam.children
    with in_town(fam.commune):
        changes = [
            Change(lea.pk, fam.activity.pk, MON_15, B),
            Change(hugo.pk, fam.activity.pk, MON_15, B),
            Change(lea.pk, fam.evening.pk, THU_18, B),
            Change(hugo.pk, fam.evening.pk, THU_18, B),  # 1 place: the evening service is full
        ]
        outcomes = confirm_basket(
            children=_children(fam), changes=changes, household=fam.household, now=EARLY
        )
        meals, evening = outcomes
        assert meals.ok and not evening.ok
        assert "complet" in evening.refused.detail
        assert Booking.objects.filter(slot__activity=fam.activity).count() == 2
        assert not Booking.objects.filter(slot__activity=fam.evening).exists()
        assert DaySlot.objects.get(activity=fam.evening, day=THU_18).booked == 0
        assert remaining(changes, outcomes) == changes[2:]


NAME = "Test de concurrence (panier)"


def test_two_overlapping_confirmations_never_apply_partly_nor_overbook(castres):
    """Two tabs of two families confirm overlapping baskets at the same instant:
    each service's days are all applied or none, and no day is overbooked."""
    from core.models import Service
    from families.models import Child, Household

    def setup():
        meals = Service.objects.get(code="restauration-scolaire")
        soir = Service.objects.get(code="accueil-soir")
        acts = {}
        for service in (meals, soir):
            acts[service.code] = Activity.objects.create(
                service=service, name=NAME, default_capacity=1
            )
            for d in DAYS[:3]:
                DaySlot.objects.create(activity=acts[service.code], day=d, capacity=1)
        kids = []
        for i in range(2):
            household = Household.objects.create(name=NAME)
            child = Child.objects.create(
                household=household,
                first_name=f"Enfant{i}",
                last_name="Test",
                birth_date=date(2018, 1, 1),
            )
            for service in (meals, soir):
                Registration.objects.create(
                    child=child, service=service, school_year=2026, status="accepted"
                )
            kids.append(child)
        return acts, kids

    def cleanup():
        ChangeSet.objects.filter(household__name=NAME).delete()
        Booking.objects.filter(slot__activity__name=NAME).delete()
        DaySlot.objects.filter(activity__name=NAME).delete()
        Activity.objects.filter(name=NAME).delete()
        Registration.objects.filter(child__household__name=NAME).delete()
        Child.objects.filter(household__name=NAME).delete()
        Household.objects.filter(name=NAME).delete()

    acts, kids = in_own_connection(castres, setup)
    try:
        meals, soir = acts["restauration-scolaire"], acts["accueil-soir"]

        def confirm(child, order):
            changes = [Change(child.pk, a.pk, d, B) for a in (meals, soir) for d in order]
            outcomes = confirm_basket(
                children={child.pk: child}, changes=changes, household=child.household, now=EARLY
            )
            return {o.service.code: o.ok for o in outcomes}

        # Both want the same three days in both services, in opposite orders.
        results = run_in_threads(
            castres,
            [
                lambda: confirm(kids[0], list(DAYS[:3])),
                lambda: confirm(kids[1], list(reversed(DAYS[:3]))),
            ],
        )
        assert not [r for r in results if isinstance(r, BaseException)], results
        connection.set_tenant(castres)
        for code, activity in (("restauration-scolaire", meals), ("accueil-soir", soir)):
            winners = [r[code] for r in results]
            assert winners.count(True) == 1, (code, results)  # one family got the service
            per_child = Counter(
                Booking.objects.filter(slot__activity=activity, status="booked").values_list(
                    "child_id", flat=True
                )
            )
            assert list(per_child.values()) == [3]  # the winner's 3 days, never part of them
            assert set(
                DaySlot.objects.filter(activity=activity).values_list("booked", flat=True)
            ) == {1}
    finally:
        in_own_connection(castres, cleanup)
        connection.set_schema_to_public()
