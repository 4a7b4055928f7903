"""The image's web command, for real: gunicorn with deploy/gunicorn.conf.py and
portal.settings.prod, two worker processes, against the test database and Redis.

Proves what a container runs: the production settings serve a town, probes
pass without HTTPS, HTTPS is enforced elsewhere, static files carry hashed
names, and /metrics adds up the samples of every gunicorn process.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
HOST = "portail.guichet.test"

pytestmark = [pytest.mark.slow, pytest.mark.redis]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(settings, tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL n'est pas défini")
    from django.db import connection

    from portal.embedded_db import database_url

    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings.prod",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
        "SECRET_KEY": "smoke-test-" + "Zq8vK3mW7pR1tY5uB9nC2xL6" * 2,
        "VAULT_MASTER_KEY": "smoke-test-vault-" + "Hj4Kp9Wd2Xs7Mq5Ta8Ub" * 2,
        "ALLOWED_HOSTS": HOST,
        "POD_IP": "127.0.0.1",  # as the chart sets it: Prometheus scrapes by IP
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "STATIC_ROOT": str(tmp_path / "static"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
    }
    (tmp_path / "prometheus").mkdir()
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        # A hang guard, not a speed check: the production storage compresses 42 MB
        # (~50 s of CPU), over 4 minutes on a machine running other suites.
        timeout=900,
    )
    assert collect.returncode == 0, collect.stderr
    log = open(tmp_path / "gunicorn.log", "w+")
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "portal.wsgi",
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180  # a hang guard (loaded machines), not a speed check
        while True:
            try:
                if get(port, "/health/live/")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail("gunicorn n'a pas démarré :\n" + log.read()[-3000:])
            time.sleep(0.1)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": HOST, **(headers or {})})
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


HTTPS = {"X-Forwarded-Proto": "https"}


@pytest.mark.django_db
def test_gunicorn_serves_the_production_settings(server, castres, tmp_path):
    port = server

    # Probes: plain HTTP, answered (no redirect to HTTPS).
    assert get(port, "/health/live/")[0] == 200
    status, _headers, body = get(port, "/health/ready/")
    assert status == 200, body
    assert json.loads(body)["checks"] == {"database.default": "ok", "redis": "ok"}

    # Anything else over plain HTTP goes to HTTPS.
    status, headers, _ = get(port, "/castres/")
    assert status == 301 and headers["Location"] == f"https://{HOST}/castres/"

    # A town's page behind the TLS proxy: security headers, hashed static names.
    status, headers, body = get(port, "/castres/", HTTPS)
    assert status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    css = re.search(rb'href="(/static/ui/ui\.[0-9a-f]{12}\.css)"', body)
    assert css, body[:500]
    status, headers, _ = get(port, css.group(1).decode(), HTTPS)
    assert status == 200
    assert "immutable" in headers["Cache-Control"]  # WhiteNoise: hashed names never change

    # Several requests spread over both gunicorn processes, counted once in /metrics.
    for _ in range(10):
        get(port, "/health/live/")
    assert get(port, "/metrics", {"Host": "evil.example"})[0] == 400  # DisallowedHost
    status, _headers, body = get(port, "/metrics", {"Host": f"127.0.0.1:{port}"})
    assert status == 200
    text = body.decode()
    total = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("django_http_requests_total_by_method_total{")
    )
    assert total >= 15
    # Multi-process mode is on: each gunicorn process writes its own file.
    assert list((tmp_path / "prometheus").glob("counter_*.db"))

    # The container health check (compose) agrees.
    for kind in ("web", "live"):
        check = subprocess.run(
            [sys.executable, str(ROOT / "deploy" / "healthcheck.py"), kind],
            env={**os.environ, "PORT": str(port), "ALLOWED_HOSTS": HOST},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert check.returncode == 0, check.stderr


def test_beat_health_check_reads_the_schedule_files_age(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import healthcheck
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    pattern = str(tmp_path / "celerybeat-schedule*")
    assert not healthcheck.beat_ok(pattern=pattern)  # beat never wrote it
    schedule = tmp_path / "celerybeat-schedule.db"
    schedule.write_bytes(b"")
    # The file's age is read against Python's clock: stamp it with that clock
    # (the file system's own is not moved by `pytest --clock`).
    now = time.time()
    os.utime(schedule, (now, now))
    assert healthcheck.beat_ok(pattern=pattern)
    old = time.time() - 3600
    os.utime(schedule, (old, old))
    assert not healthcheck.beat_ok(pattern=pattern)  # stuck for an hour
    # Nothing listens: "unhealthy" (exit 1), never a traceback.
    monkeypatch.setenv("PORT", str(free_port()))
    assert healthcheck.main("web") == 1
