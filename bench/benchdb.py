"""The database a benchmark uses: DATABASE_URL (or the script's own variable)
when set, else the embedded PostgreSQL that `make run` uses (`.pgdata/`,
docs/decisions/0003) with the benchmark's own database. Never a guessed
127.0.0.1:5432. The database is created when missing, on either server."""

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
    `db_name` as database; its database created if missing."""
    url = os.environ.get(env)
    if not url:
        from portal.embedded_db import embedded_database_url

        data_dir = Path(os.environ.get("EMBEDDED_PGDATA") or ROOT / ".pgdata")
        base = embedded_database_url(data_dir)
        url = urllib.parse.urlunsplit(urllib.parse.urlsplit(base)._replace(path="/" + db_name))
        print(
            f"Base de données : PostgreSQL embarqué ({data_dir}), base {db_name}", file=sys.stderr
        )
    ensure_database(url)
    return url


def ensure_database(url: str) -> None:
    """Create the URL's database when missing (through the server's `postgres`
    database, every other connection setting kept)."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            c.execute(f'CREATE DATABASE "{name}"')
