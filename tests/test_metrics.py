"""/metrics (django-prometheus + our per-town counters), Celery failures, Sentry's town tag."""

import pytest
from celery import shared_task
from django.test import override_settings
from prometheus_client import REGISTRY

from core import metrics
from core import tasks as _core_tasks  # noqa: F401 — connects the Celery signals, as a worker does

pytestmark = pytest.mark.django_db


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


@shared_task(name="tests.test_metrics.explode")
def explode():
    raise RuntimeError("échec voulu par le test")


def test_metrics_endpoint_serves_request_metrics_and_our_counters(client, castres):
    client.get("/castres/")  # one request through a town
    metrics.record_booking(module="periscolaire", town=castres)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "django_http_requests_total_by_method_total" in body
    assert (
        'guichet_bookings_total{action="created",module="periscolaire",outcome="ok",town="castres"}'
        in body
    )


def test_metrics_requires_the_bearer_token_when_one_is_set(client):
    with override_settings(METRICS_TOKEN="jeton-secret"):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer mauvais").status_code == 401
        ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer jeton-secret")
    assert ok.status_code == 200


def test_booking_counter_takes_the_town_of_the_current_schema(castres, bondoufle, in_town):
    labels = {"module": "alsh", "action": "created", "outcome": "ok"}
    before_castres = sample("guichet_bookings_total", town="castres", **labels)
    before_bondoufle = sample("guichet_bookings_total", town="bondoufle", **labels)
    with in_town(castres):
        metrics.record_booking(module="alsh", count=3)  # three days booked at once
    with in_town(bondoufle):
        metrics.record_booking(module="alsh")
    assert sample("guichet_bookings_total", town="castres", **labels) == before_castres + 3
    assert sample("guichet_bookings_total", town="bondoufle", **labels) == before_bondoufle + 1


def test_payment_counters_add_the_amount_only_when_paid(castres):
    paid = {"town": "castres", "provider": "payzen"}
    before_amount = sample("guichet_payments_amount_euros_total", **paid)
    before_denied = sample("guichet_payments_total", outcome="denied", **paid)
    metrics.record_payment(town=castres, provider="payzen", outcome="PAID", amount_cents=4250)
    metrics.record_payment(town=castres, provider="payzen", outcome="denied", amount_cents=990)
    assert sample("guichet_payments_amount_euros_total", **paid) == pytest.approx(
        before_amount + 42.50
    )
    assert sample("guichet_payments_total", outcome="denied", **paid) == before_denied + 1


def test_outside_any_town_the_label_is_public():
    assert metrics.town_label() == "public"
    assert metrics.town_label("donges") == "donges"


def test_a_failed_task_is_counted_for_its_town(castres, in_town):
    labels = {"town": "castres", "task": "tests.test_metrics.explode"}
    before = sample("guichet_task_failures_total", **labels)
    with in_town(castres):
        # Run in-process as a worker would (no re-raise): Celery then sends
        # task_failure, as it does in a worker.
        result = explode.apply(throw=False)
    assert result.failed()
    assert sample("guichet_task_failures_total", **labels) == before + 1


@pytest.fixture
def sentry_events():
    """Sentry initialised as in production, events kept in a list, nothing sent."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    captured = []

    def keep(event, hint):
        captured.append(event)
        return None  # dropped: never leaves the process

    sentry_sdk.init(
        dsn="http://public@127.0.0.1:9/1",
        integrations=[DjangoIntegration()],
        default_integrations=False,
        traces_sample_rate=1.0,
        send_client_reports=False,
        before_send=keep,
        before_send_transaction=keep,
    )
    yield captured
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def wsgi_get(path):
    """A request through Django's WSGI handler, as gunicorn sends it (the test
    client skips the WSGI entry point that Sentry's Django integration wraps)."""
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections
    from django.test import RequestFactory

    statuses = []
    environ = RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD="GET")
    # As django.test.Client does: keep the test's connection (and transaction) open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
        body = b"".join(response)
        response.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return statuses[0], body


def test_sentry_events_of_a_town_request_carry_the_town_tag(castres, sentry_events):
    assert wsgi_get("/castres/")[0] == "200 OK"
    assert wsgi_get("/")[0] == "200 OK"
    tags = [event.get("tags", {}).get("town") for event in sentry_events]
    assert tags == ["castres", None]


def test_sentry_scope_of_a_task_carries_its_town(castres, in_town, sentry_events):
    import sentry_sdk

    from core.tasks import describe_town

    sentry_sdk.get_isolation_scope().remove_tag("town")
    with in_town(castres):
        describe_town.apply()  # task_prerun runs in the task's schema
    assert sentry_sdk.get_isolation_scope()._tags["town"] == "castres"
    sentry_sdk.get_isolation_scope().remove_tag("town")


def test_sentry_is_not_touched_when_not_initialised(client, castres):
    import sentry_sdk

    sentry_sdk.get_isolation_scope().remove_tag("town")
    assert not sentry_sdk.get_client().is_active()
    assert client.get("/castres/").status_code == 200
    assert "town" not in sentry_sdk.get_isolation_scope()._tags
