"""All-or-nothing submissions under real concurrency: 20 families submit the
same three days (each in its own order) at the same instant for 8 places a
day. Exactly 8 families get their three days, the others nothing at all; no
deadlock, no overbooking. Committed rows, as in test_booking_concurrency."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest
from django.db import connection

from booking.changes import ChangesRefused, apply_changes
from booking.models import Activity, Booking, DaySlot, Registration
from booking.rules import Action, Change
from booking.tests.helpers import paris
from booking.tests.test_booking_concurrency import run_together
from tests.support import in_own_connection

pytestmark = pytest.mark.django_db

EARLY = paris(2027, 3, 1, 9)
DAYS = (date(2027, 3, 17), date(2027, 3, 24), date(2027, 3, 31))
NAME = "Test de concurrence (soumissions)"


def test_simultaneous_submissions_are_all_or_nothing(castres):
    from core.models import Service
    from families.models import Child, Household

    capacity, families = 8, 20

    def setup():
        service = Service.objects.get(code="alsh-mercredi")
        household = Household.objects.create(name=NAME)
        activity = Activity.objects.create(service=service, name=NAME, default_capacity=capacity)
        children = Child.objects.bulk_create(
            Child(
                household=household,
                first_name=f"Enfant{i}",
                last_name="Test",
                birth_date=date(2018, 1, 1),
            )
            for i in range(families)
        )
        Registration.objects.bulk_create(
            Registration(child=c, service=service, school_year=2026, status="accepted")
            for c in children
        )
        for d in DAYS:
            DaySlot.objects.create(activity=activity, day=d, capacity=capacity)
        return service, activity, children

    def cleanup():
        Booking.objects.filter(slot__activity__name=NAME).delete()
        DaySlot.objects.filter(activity__name=NAME).delete()
        Activity.objects.filter(name=NAME).delete()
        Registration.objects.filter(child__household__name=NAME).delete()
        Child.objects.filter(household__name=NAME).delete()
        Household.objects.filter(name=NAME).delete()

    service, activity, children = in_own_connection(castres, setup)
    try:
        rng = random.Random(2027)

        def submit(child, days):
            try:
                result = apply_changes(
                    children={child.pk: child},
                    service=service,
                    now=EARLY,
                    changes=[Change(child.pk, activity.pk, d, Action.BOOK) for d in days],
                )
                return len(result.booked)
            except ChangesRefused as exc:
                assert exc.only_full
                return 0

        jobs = []
        for child in children:
            days = list(DAYS)
            rng.shuffle(days)
            jobs.append(lambda child=child, days=days: submit(child, days))
        results = run_together(castres, jobs)
        assert Counter(results) == {3: capacity, 0: families - capacity}
        connection.set_tenant(castres)
        per_child = Counter(
            Booking.objects.filter(slot__activity=activity, status="booked").values_list(
                "child_id", flat=True
            )
        )
        assert set(per_child.values()) == {3}  # never a partial submission
        assert (
            list(DaySlot.objects.filter(activity=activity).values_list("booked", flat=True))
            == [capacity] * 3
        )
    finally:
        in_own_connection(castres, cleanup)
        connection.set_schema_to_public()
