"""The database a benchmark uses: DATABASE_URL when set, else the embedded
PostgreSQL that `make run` uses (`.pgdata/`, docs/decisions/0003), with the
benchmark's own database created on it. Never a guessed 127.0.0.1:5432."""

from __future__ import annotations

import os
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "platform") not in sys.path:
    sys.path.append(str(ROOT / "platform"))


def bench_database_url(db_name: str, env: str = "DATABASE_URL") -> str:
    """`env`'s URL when set (used as given), else the embedded server's URL with
    `db_name` as database, created if missing."""
    if os.environ.get(env):
        return os.environ[env]
    import psycopg

    from portal.embedded_db import embedded_database_url

    data_dir = Path(os.environ.get("EMBEDDED_PGDATA") or ROOT / ".pgdata")
    base = embedded_database_url(data_dir)
    parts = urllib.parse.urlsplit(base)
    socket_dir = urllib.parse.parse_qs(parts.query)["host"][0]
    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone():
            c.execute(f'CREATE DATABASE "{db_name}"')
    print(f"Base de données : PostgreSQL embarqué ({data_dir}), base {db_name}", file=sys.stderr)
    return urllib.parse.urlunsplit(parts._replace(path="/" + db_name))
