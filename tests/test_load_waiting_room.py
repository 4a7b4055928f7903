"""The whole opening, small (bench/opening_waiting_room.py's own code, about a
minute): 40 households of a town with all the modules on arrive within 4 s
around an opening with its waiting room, through gunicorn (2 sync workers)
and the tests' Redis; 10 of them sign in for real (PBKDF2 of the production
settings, behind the sign-in gate), the others are signed in already. They
queue, poll, are admitted, and each books the whole 2-day session once (10
places a day). No 5xx, every household answered, nobody admitted or booked
twice, the draw before the later arrivals, no overbooked place. The
full-size run (2,500 households) and its figures: docs/benchmarks.md.

Marked `load` (its own CI step, .ci/run) and `slow` (it starts gunicorn).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from django.conf import settings
from django.db import connection

from tests.support import in_own_connection
from tests.test_load_smoke import ROOT, SLUG, rush_town  # noqa: F401 - the town fixture

pytestmark = [pytest.mark.load, pytest.mark.slow, pytest.mark.django_db]

HOUSEHOLDS, SIGNING_IN, PLACES, DAYS, WORKERS = 40, 0.25, 10, 2, 2


def _module(name: str):
    path = ROOT / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL absent")
def test_the_whole_opening_through_the_waiting_room(rush_town, settings):  # noqa: F811
    from django.conf import global_settings

    bench, room = _module("opening_rush"), _module("opening_waiting_room")
    # The passwords hashed as production (and gunicorn's settings) hash them.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    info = in_own_connection(
        None,
        lambda: bench.populate(
            rush_town, HOUSEHOLDS, PLACES, DAYS, ceiling=False, passwords=HOUSEHOLDS
        ),
    )
    from portal.embedded_db import database_url

    info["database_url"] = database_url(connection.settings_dict)
    period = in_own_connection(
        None,
        lambda: room.open_period(rush_town, info["activity"], lead=40, admit_per_minute=600),
    )
    r = room.waiting_room_rush(
        bench,
        info,
        port=bench.free_port(),
        workers=WORKERS,
        redis_url=settings.REDIS_URL,
        period=period,
        signing_in=SIGNING_IN,
        arrival_window=4,
        poll=1,
        connections=32,
        timeout=300,
    )
    room.report(r)
    assert info["slug"] == SLUG
    assert r["errors_5xx"] == 0, r["statuses"]
    assert r["unanswered"] == 0, r["problems"]
    assert r["admitted_twice"] == 0
    assert r["overbooked"] == 0 and r["counter_drift"] == 0
    assert r["room"]["queued"] == r["room"]["admitted"] == HOUSEHOLDS
    assert r["signin"]["signed_in"] == HOUSEHOLDS * SIGNING_IN
    assert r["signin"]["hashed"] >= HOUSEHOLDS * SIGNING_IN  # real password checks
    # Every place taken by whole submissions, the others told « complet ».
    assert r["accepted"] == PLACES and r["refused_full"] == HOUSEHOLDS - PLACES
    assert r["booked"] == PLACES * DAYS
    assert r["fairness"]["drawn_all_before_later"]
    expected = {"queue 200", "status 200", "signin 302", "signin 429", "booking 200", "booking 409"}
    assert set(r["statuses"]) <= expected, r["statuses"]
