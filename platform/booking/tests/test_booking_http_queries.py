"""The accepted booking submission over HTTP, through the whole stack
(routing, session, user, CSRF, the API view, the booking service): its SQL
statements (issue #19: at most 8), and the per-process town data cache it
relies on (services, periods, closures, calendar), invalidated by the town's
configuration version and by any change to those rows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking import selectors
from booking.models import Booking, ChangeSet, Closure, DaySlot, ReservationPeriod
from booking.tests.conftest import DAYS, login

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
API = "/castres/api/periscolaire/reservations/"
# Not the booking's: the test's own transaction (BEGIN/COMMIT in production,
# which Django does not record either) and django-tenants' search path.
NOT_DATA = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "SET search_path")


def _body(meals, days, children) -> str:
    changes = [
        {"child": c.pk, "activity": meals.activity.pk, "day": d.isoformat(), "action": "book"}
        for c in children
        for d in days
    ]
    return json.dumps({"service": "restauration-scolaire", "changes": changes})


def _data_statements(ctx) -> list[str]:
    return [
        " ".join(q["sql"].split())
        for q in ctx.captured_queries
        if not q["sql"].lstrip().startswith(NOT_DATA)
    ]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("n_children,n_days", [(1, 1), (2, 4)])
def test_an_accepted_submission_runs_at_most_8_statements(
    client, meals, in_town, settings, n_children, n_days
):
    settings.TOWN_LOOKUP_TTL = 3600  # production keeps the town's lookup (tests turn it off)
    login(client, meals.commune, meals.user)
    kids = meals.children[:n_children]
    warm = client.post(API, _body(meals, DAYS[5:], kids), content_type="application/json")
    assert warm.status_code == 200, warm.content  # the town, its booking data: now cached
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            API, _body(meals, DAYS[:n_days], kids), content_type="application/json"
        )
    assert response.status_code == 200, response.content
    assert len(response.json()["booked"]) == n_children * n_days
    statements = _data_statements(ctx)
    shown = "\n".join(s[:160] for s in statements)
    assert len(statements) <= 8, shown
    # session, user, the family's children WITH their registrations, the day
    # slots WITH the live bookings, ONE conditional UPDATE, ONE INSERT, the
    # receipt, the acknowledgement e-mail's outbox row.
    heads = [s.split(".")[0] for s in statements[:4]]
    assert heads == [
        'SELECT "django_session"',
        'SELECT "accounts_user"',
        'SELECT "families_child"',
        'SELECT "booking_dayslot"',
    ], shown
    assert "booking_registration" in statements[2] and "booking_booking" in statements[3], shown
    assert sum(s.startswith("WITH wanted") for s in statements) == 1, shown
    assert sum(s.startswith('INSERT INTO "booking_booking"') for s in statements) == 1, shown
    assert not any(s.startswith(('SELECT "core_service"', 'SELECT "tenants_')) for s in statements)
    with in_town(meals.commune):
        assert Booking.objects.count() == n_children * (n_days + 1)
        assert ChangeSet.objects.count() == 2
        for slot in DaySlot.objects.filter(activity=meals.activity, day__in=DAYS[:n_days]):
            assert slot.booked == n_children


@time_machine.travel(NOW, tick=False)
def test_registrations_read_with_the_children_still_refuse_the_unregistered(client, meals, in_town):
    from booking.models import Registration

    lea, hugo = meals.children
    with in_town(meals.commune):
        Registration.objects.filter(child=hugo).update(status=Registration.Status.PENDING)
    login(client, meals.commune, meals.user)
    response = client.post(
        API, _body(meals, DAYS[2:3], [lea, hugo]), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["detail"] == (
        "Hugo, jeudi 18 mars 2027 : inscription au service pas encore validée."
    )
    with in_town(meals.commune):
        assert not Booking.objects.exists()


def test_town_data_is_cached_per_configuration_version(meals, in_town):
    with in_town(meals.commune):
        first = selectors.town_data()
        with CaptureQueriesContext(connection) as ctx:
            assert selectors.town_data() is first
            service = selectors.town_service("periscolaire", "restauration-scolaire")
        assert not _data_statements(ctx)  # served from the process
        assert service.pk == meals.service.pk
        assert selectors.town_service("periscolaire", "no-such-service") is None
        tenant = connection.tenant
        digest = tenant.config_digest
        tenant.config_digest = "the next configuration version"
        try:
            assert selectors.town_data() is not first  # the key holds the config version
        finally:
            tenant.config_digest = digest


@pytest.mark.parametrize("what", ["service", "period", "closure"])
def test_town_data_forgets_a_changed_service_period_or_closure(meals, in_town, what):
    from tenants.testing import edit_town_config

    def rename(data):
        for service in data["services"]:
            if service["code"] == "restauration-scolaire":
                service["name"] = "Cantine"

    with in_town(meals.commune):
        first = selectors.town_data()
        assert selectors.town_data() is first
    if what == "service":  # a new configuration version, as the back-office applies one
        edit_town_config(meals.commune, rename)
    with in_town(meals.commune):
        if what == "service":
            renamed = selectors.town_service("periscolaire", "restauration-scolaire")
            assert renamed.name == "Cantine"
        elif what == "period":
            ReservationPeriod.objects.create(
                label="Été",
                opens_at=datetime(2027, 5, 1, 8, 30, tzinfo=UTC),
                closes_at=datetime(2027, 6, 1, 8, 30, tzinfo=UTC),
            )
            assert [w.label for w in selectors.windows_for(meals.service)] == ["Été"]
        else:
            Closure.objects.create(
                label="Pont", first_day=date(2027, 5, 7), last_day=date(2027, 5, 7)
            )
            assert any(c.label == "Pont" for c in selectors.town_calendar().closures)
        assert selectors.town_data() is not first


def test_a_committed_change_reaches_the_other_processes_through_the_generation(meals, in_town):
    """Another process's copy is keyed by the shared generation counter, bumped
    after the commit of a change: its next read misses and reloads."""
    with in_town(meals.commune):
        first = selectors.town_data()
        before = selectors._generation()
        selectors._bump_generation(connection.schema_name)  # what the commit hook does
        assert selectors._generation() == before + 1
        assert selectors.town_data() is not first


def test_the_generation_is_read_from_the_shared_cache_at_most_once_a_second(meals, in_town):
    """A booking does not pay a Redis round trip for the generation: it is
    re-read once GENERATION_RECHECK_SECONDS have passed (another process's
    bump arrives then); this process's own changes are seen at once."""
    from django.core.cache import cache

    with in_town(meals.commune):
        schema = connection.schema_name
        cache.set(selectors._GENERATION_KEY, 5, None)
        selectors._SEEN.pop(schema, None)
        assert selectors._generation() == 5
        first = selectors.town_data()
        cache.incr(selectors._GENERATION_KEY)  # another process committed a change
        assert selectors._generation() == 5  # not re-read within the second
        assert selectors.town_data() is first
        expiry, seen = selectors._SEEN[schema]
        selectors._SEEN[schema] = (expiry - selectors.GENERATION_RECHECK_SECONDS, seen)
        assert selectors._generation() == 6  # the second is over: re-read
        assert selectors.town_data() is not first
        selectors._bump_generation(schema)  # this process's own change
        assert selectors._generation() == 7
