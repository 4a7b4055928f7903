"""The container entrypoint's `migrate` (the path compose, the Helm job and, with
the same commands, systemd take) brings every stale town current.

A database of its own (<DATABASE_URL's name>_migrate), in production settings:
the entrypoint runs `check --deploy`, `migrate_schemas --shared`, then
`migrate_towns`. 50 towns are created from the town template, then made stale
for real: otp_totp's last migration is undone in each (its two columns dropped,
its row deleted). The entrypoint must re-apply it in every town and print one
line per town and a summary.
"""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.test_deploy_settings import PROD_ENV

ROOT = Path(__file__).resolve().parents[1]
TOWNS = 50
STALE = ("otp_totp", "0003_add_timestamps")  # adds totpdevice.created_at, last_used_at

pytestmark = pytest.mark.slow

CREATE_TOWNS = f"""
from django.db import transaction
from tenants.models import Commune
from tenants.template import refresh_template, save_new_town
refresh_template()
for i in range({TOWNS}):
    with transaction.atomic():
        save_new_town(Commune(schema_name=f"stale_{{i:02d}}", slug=f"stale-{{i:02d}}",
            name=f"Stale {{i}}", insee_code=f"99{{i:03d}}", department="Test",
            department_code="99", contact_label="Mairie"))
print("created", Commune.objects.exclude(schema_name="public").count())
"""


@pytest.fixture
def database():
    # Every connection setting of the database in use, embedded server (socket
    # directory in the URL's query) included: never a URL cut at its last « / ».
    from django.db import connection

    from portal.embedded_db import database_url

    name = f"{connection.settings_dict['NAME']}_migrate"
    admin = database_url(connection.settings_dict, "postgres")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    yield database_url(connection.settings_dict, name)
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(PROD_ENV)
    env.update(
        DATABASE_URL=url,
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"),
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        PYTHONPATH=f"{ROOT}:{ROOT / 'platform'}",
        MIGRATE_WORKERS="2",
        LOG_LEVEL="WARNING",
    )
    return env


def _entrypoint(env, *args):
    return subprocess.run(
        ["sh", str(ROOT / "deploy" / "docker-entrypoint.sh"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _applied(url):
    with psycopg.connect(url) as c:
        rows = c.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'stale\\_%' ORDER BY 1"
        ).fetchall()
        out = {}
        for (schema,) in rows:
            applied = c.execute(
                f'SELECT count(*) FROM "{schema}".django_migrations WHERE app = %s AND name = %s',
                STALE,
            ).fetchone()[0]
            columns = c.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = 'otp_totp_totpdevice' "
                "AND column_name IN ('created_at', 'last_used_at')",
                [schema],
            ).fetchone()[0]
            out[schema] = (applied, columns)
        return out


def test_entrypoint_migrate_brings_50_stale_towns_current(database):
    env = _env(database)
    first = _entrypoint(env, "migrate")  # empty database: the public schema, no town
    assert first.returncode == 0, first.stdout + first.stderr
    assert "0 commune(s)" in first.stdout

    made = _entrypoint(env, "manage", "shell", "-c", CREATE_TOWNS)
    assert made.returncode == 0, made.stderr
    assert f"created {TOWNS}" in made.stdout
    with psycopg.connect(database, autocommit=True) as c:
        for i in range(TOWNS):
            schema = f"stale_{i:02d}"
            c.execute(
                f'ALTER TABLE "{schema}".otp_totp_totpdevice '
                "DROP COLUMN created_at, DROP COLUMN last_used_at"
            )
            c.execute(
                f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', STALE
            )
    assert set(_applied(database).values()) == {(0, 0)}, "the towns are not stale"

    out = _entrypoint(env, "migrate")
    assert out.returncode == 0, out.stdout + out.stderr
    # Deploy check first, then one line per town, then the summary.
    assert "System check identified no issues" in out.stdout
    town_lines = [line for line in out.stdout.splitlines() if line.startswith("stale_")]
    assert len(town_lines) == TOWNS, out.stdout
    assert all(f"{STALE[0]}.{STALE[1]}" in line for line in town_lines), town_lines[:3]
    assert f"{TOWNS} commune(s) : 0 à jour, {TOWNS} migrée(s), 0 en échec" in out.stdout
    print(out.stdout.splitlines()[-1])

    applied = _applied(database)
    assert len(applied) == TOWNS and set(applied.values()) == {(1, 2)}

    again = _entrypoint(env, "migrate")  # a second deploy: nothing to do
    assert again.returncode == 0, again.stderr
    assert f"{TOWNS} commune(s) : {TOWNS} à jour, 0 migrée(s)" in again.stdout
