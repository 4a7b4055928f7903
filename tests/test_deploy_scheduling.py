"""The per-town dispatcher: one beat entry, every active town, spread over a window."""

import collections
import json

import pytest
from celery import current_app, shared_task
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from core.scheduling import (
    DISPATCH_TASK,
    max_window_seconds,
    per_town_beat_entry,
    plan_dispatch,
    spread_countdown,
)
from core.tasks import dispatch_to_towns

# --- pure spreading --------------------------------------------------------

slugs = st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True)


@given(slug=slugs, window=st.integers(min_value=1, max_value=7 * 86400), salt=st.text(max_size=60))
def test_countdown_is_inside_the_window_and_stable(slug, window, salt):
    countdown = spread_countdown(slug, window, salt=salt)
    assert 0 <= countdown < window
    assert spread_countdown(slug, window, salt=salt) == countdown


@pytest.mark.parametrize(
    ("slug", "window", "salt", "expected"),
    [
        # Pinned: a town keeps its offset across releases and worker restarts
        # (its evening reminders leave at the same minute every day).
        ("castres", 3600, "modules.periscolaire.tasks.send_reminders", 3081),
        ("bondoufle", 3600, "modules.periscolaire.tasks.send_reminders", 1108),
        ("castres", 3600, "", 1037),
        ("castres", 86400, "a", 23070),
        ("castres", 0, "", 0),
        ("castres", -5, "", 0),
        ("castres", 1, "x", 0),
    ],
)
def test_countdown_table(slug, window, salt, expected):
    assert spread_countdown(slug, window, salt=salt) == expected


def test_the_task_name_moves_a_towns_offset():
    offsets = {spread_countdown("castres", 3600, salt=f"task-{i}") for i in range(20)}
    assert len(offsets) > 15


def test_35000_towns_spread_evenly_over_an_hour():
    """France's ~35,000 communes over one hour: every minute gets its share
    (583 on average) within 15 %, so no minute of the hour is a spike."""
    plan = list(plan_dispatch((f"commune-{i}" for i in range(35_000)), 3600, salt="t"))
    per_minute = collections.Counter(d.countdown // 60 for d in plan)
    assert len(per_minute) == 60
    mean = 35_000 / 60
    assert max(per_minute.values()) < mean * 1.15
    assert min(per_minute.values()) > mean * 0.85


def test_window_is_bounded_by_the_brokers_visibility_timeout():
    assert max_window_seconds(None) == 3240  # Redis' default: one hour, minus 10 %
    assert max_window_seconds({"visibility_timeout": 4 * 3600}) == 12960


def test_beat_entry_points_at_the_dispatcher():
    entry = per_town_beat_entry("x.y", window_seconds=900, schedule=3600.0, queue="bulk")
    assert entry == {
        "task": DISPATCH_TASK,
        "schedule": 3600.0,
        "kwargs": {
            "task_name": "x.y",
            "window_seconds": 900,
            "task_kwargs": {},
            "queue": "bulk",
            "module": None,
            "town_filter": {},
        },
    }
    assert DISPATCH_TASK in current_app.tasks


def test_the_apps_periodic_jobs_are_beat_entries_of_the_one_dispatcher():
    """AppConfig.periodic_jobs -> one beat entry each, added when the Celery app is
    finalized (as `celery beat` does before reading its schedule); a module's job
    carries its module code (only the towns that have it on)."""
    import celery.beat

    from portal.celery import app

    app.finalize()
    schedule = celery.beat.Scheduler(app=app, lazy=False).schedule
    run = schedule["billing-monthly-run"]
    assert run.task == DISPATCH_TASK
    assert run.kwargs["task_name"] == "billing.tasks.run_month_for_town"
    assert run.kwargs["module"] == "billing"
    payfip = schedule["billing-payfip-reconciliation"].kwargs
    # Every billing town: the task reads the provider from the town's payment
    # row, the one reader of the `payment` section (decisions/0006).
    assert payfip["module"] == "billing"
    assert payfip["town_filter"] == {}


# --- dispatching -------------------------------------------------------------

RAN_IN = []


@shared_task(name="tests.test_deploy_scheduling.note_schema")
def note_schema(marker=""):
    RAN_IN.append((connection.schema_name, marker))


def active_schemas():
    from tenants.models import Commune

    return sorted(
        Commune.objects.exclude(schema_name="public")
        .filter(status=Commune.Status.ACTIVE)
        .values_list("schema_name", flat=True)
    )


@pytest.mark.django_db
def test_eager_dispatch_runs_the_task_once_in_every_active_town(castres, bondoufle):
    from tenants.onboarding import set_status

    set_status(bondoufle, "suspended")  # a suspended town gets nothing
    expected = active_schemas()
    assert "castres" in expected and "bondoufle" not in expected

    RAN_IN.clear()
    sent = dispatch_to_towns(
        "tests.test_deploy_scheduling.note_schema", 600, task_kwargs={"marker": "m"}
    )

    assert sent == len(expected)
    assert sorted(RAN_IN) == [(schema, "m") for schema in expected]
    assert connection.schema_name == "public"  # the dispatcher leaves no town behind


@pytest.mark.django_db
def test_dispatch_only_to_towns_with_the_module_and_matching_the_filter(castres, bondoufle):
    from tenants.testing import edit_town_config, module_switched_off

    edit_town_config(bondoufle, module_switched_off("billing"))
    RAN_IN.clear()
    task = "tests.test_deploy_scheduling.note_schema"
    assert dispatch_to_towns(task, 600, module="billing") == 1
    assert RAN_IN == [("castres", "")]
    RAN_IN.clear()
    # A filter on a section without a derived copy (decisions/0006).
    refresh = {"config__api_particulier__refresh": False}
    assert dispatch_to_towns(task, 600, module="billing", town_filter=refresh) == 0
    assert dispatch_to_towns(task, 600, town_filter={"config__api_particulier__refresh": True}) == 1
    assert RAN_IN == [("castres", "")]


@pytest.mark.django_db
def test_an_unknown_task_name_fails_before_sending_anything(castres):
    with pytest.raises(KeyError):
        dispatch_to_towns("modules.nothing.tasks.missing", 600)


@pytest.fixture
def real_broker(settings):
    """Send to the real Redis broker (tests are eager by default)."""
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL n'est pas défini")
    import redis

    conf = current_app.conf
    previous = conf.task_always_eager
    conf.task_always_eager = False
    client = redis.Redis.from_url(conf.broker_url)
    queue = "test-dispatch-to-towns"
    client.delete(queue)
    yield client, queue
    client.delete(queue)
    conf.task_always_eager = previous


@pytest.mark.django_db
@pytest.mark.redis
def test_each_message_carries_its_towns_schema_and_countdown(castres, bondoufle, real_broker):
    client, queue = real_broker
    task_name = "tests.test_deploy_scheduling.note_schema"

    sent = dispatch_to_towns(task_name, 1800, queue=queue)

    messages = [json.loads(raw) for raw in client.lrange(queue, 0, -1)]
    assert len(messages) == sent == len(active_schemas())
    by_schema = {m["headers"]["_schema_name"]: m["headers"] for m in messages}
    assert sorted(by_schema) == active_schemas()
    for slug in ("castres", "bondoufle"):
        headers = by_schema[slug]
        assert headers["task"] == task_name
        assert headers["eta"] is not None  # delayed, not due at once
    # Countdowns follow the pure plan: compare the ETAs' order with the offsets'.
    from datetime import datetime

    eta = {s: datetime.fromisoformat(h["eta"]) for s, h in by_schema.items()}
    offset = {s: spread_countdown(s, 1800, salt=task_name) for s in ("castres", "bondoufle")}
    delta = (eta["castres"] - eta["bondoufle"]).total_seconds()
    assert delta == pytest.approx(offset["castres"] - offset["bondoufle"], abs=2)
