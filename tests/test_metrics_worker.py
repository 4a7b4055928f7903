"""A real Celery worker (prefork, real Redis) counts a failed task for the town
it was sent from, and exports it on CELERY_METRICS_PORT (the pod's :9808).

The failure happens in a prefork child process; only the multi-process mode
(PROMETHEUS_MULTIPROC_DIR, set by deploy/) lets the exporter see it.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import current_app, shared_task

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@shared_task(name="tests.test_metrics_worker.fail_in_town")
def fail_in_town():
    raise ValueError("échec voulu par le test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/metrics")
    return conn.getresponse().read().decode()


def wait_for(predicate, timeout=180.0, process=None, log=None):  # hang guard
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.2)
    log.seek(0)
    pytest.fail("le worker n'a pas répondu à temps :\n" + log.read()[-3000:])


@pytest.mark.django_db
def test_worker_exports_task_failures_per_town(settings, castres, in_town, tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL n'est pas défini")
    from django.db import connection

    port = free_port()
    queue = f"test-metrics-{uuid.uuid4().hex[:8]}"
    (tmp_path / "prometheus").mkdir()
    from portal.embedded_db import database_url

    db = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
        "DATABASE_URL": database_url(db),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_METRICS_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    log = open(tmp_path / "worker.log", "w+")
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "portal",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "-Q",
            queue,
            "--loglevel=WARNING",
            "--include=tests.test_metrics_worker",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=metrics-{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    conf = current_app.conf
    eager = conf.task_always_eager
    try:
        # The exporter listens once the worker is ready (worker_ready signal).
        wait_for(lambda: scrape(port) is not None, process=worker, log=log)
        conf.task_always_eager = False
        with in_town(castres):
            fail_in_town.apply_async(queue=queue)
        wanted = (
            'guichet_task_failures_total{task="tests.test_metrics_worker.fail_in_town",'
            'town="castres"} 1.0'
        )
        wait_for(lambda: wanted in scrape(port), process=worker, log=log)
    finally:
        conf.task_always_eager = eager
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
