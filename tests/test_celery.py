"""A real worker and a real beat against the machine's Redis.

The worker runs in another process on the test database; a task sent from the
bondoufle schema must run in the bondoufle schema (tenant-schemas-celery).
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from core.tasks import describe_town
from portal.celery import app

ROOT = Path(__file__).resolve().parents[1]
CELERY = str(Path(sys.executable).with_name("celery"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL non défini : pas de Redis réel"),
]


def _test_database_url() -> str:
    from portal.embedded_db import database_url

    return database_url(connection.settings_dict)


def _start(args, tmp_path, **extra_env):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": _test_database_url(),
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
        **extra_env,
    }
    log = open(tmp_path / f"{args[0]}.log", "w")
    return subprocess.Popen(
        [CELERY, "-A", "portal", *args], cwd=ROOT, env=env, stdout=log, stderr=log
    )


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def worker(tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    proc = _start(
        [
            "worker",
            "-P",
            "solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        tmp_path,
    )
    app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        app.conf.task_always_eager = True
        _stop(proc)


def test_task_sent_from_bondoufle_runs_in_bondoufle_schema(worker, bondoufle, castres, in_town):
    with in_town(bondoufle):
        result = describe_town.apply_async(queue=worker)
    data = result.get(timeout=180)
    assert data["schema"] == "bondoufle"
    assert "alsh-mercredi" in data["services"]
    with in_town(castres):
        result = describe_town.apply_async(queue=worker)
    assert result.get(timeout=180)["schema"] == "castres"


def test_beat_schedules_the_heartbeat_through_redis(tmp_path, db):
    queue = f"beat-{uuid.uuid4().hex[:8]}"
    cache.delete("platform-heartbeat")
    env = {"HEARTBEAT_SECONDS": "1", "CELERY_TASK_DEFAULT_QUEUE": queue}
    worker = _start(
        ["worker", "-P", "solo", "-Q", queue, "--without-gossip", "--without-mingle"],
        tmp_path,
        **env,
    )
    beat = _start(
        ["beat", "-s", str(tmp_path / "beat-schedule"), "--max-interval", "1"], tmp_path, **env
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not cache.get("platform-heartbeat"):
            time.sleep(0.5)
        assert cache.get("platform-heartbeat"), (tmp_path / "beat.log").read_text()[-2000:]
    finally:
        _stop(beat)
        _stop(worker)
