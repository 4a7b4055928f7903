"""The README's run command on a machine without PostgreSQL nor Redis: the real
entry point (`manage.py rundemo`, what `make run` calls) with DATABASE_URL and
REDIS_URL unset, so it uses the embedded PostgreSQL and eager Celery."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOWNS = {
    "bassens": ("Bassens", "05 57 80 81 87"),
    "bondoufle": ("Bondoufle", "01 69 91 46 56"),
    "castres": ("Castres", "05 63 62 43 44"),
    "donges": ("Donges", "02 40 45 79 79"),
    "chalonnes": ("Chalonnes-sur-Loire", "aps@chalonnes-sur-loire.fr"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.mark.slow
def test_run_command_serves_every_launch_town_on_embedded_postgres(tmp_path):
    port = _free_port()
    pgdata = tmp_path / "pgdata"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(PORT=str(port), EMBEDDED_PGDATA=str(pgdata), MEDIA_ROOT=str(tmp_path / "media"))
    log = open(tmp_path / "run.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "rundemo"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300
        status = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/health/")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert status == 200, (tmp_path / "run.log").read_text()[-3000:]
        status, home = _get(f"http://127.0.0.1:{port}/")
        assert status == 200
        for slug, (name, contact) in TOWNS.items():
            assert f'href="/{slug}/"' in home
            status, page = _get(f"http://127.0.0.1:{port}/{slug}/")
            assert status == 200 and f"portail famille de {name}" in page and contact in page, slug
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        from portal.embedded_db import is_running, stop_embedded

        stop_embedded(pgdata)  # the server outlives `rundemo`: stopped here
        assert not is_running(pgdata)
