#!/usr/bin/env python
"""Container health checks (compose `healthcheck`, Kubernetes exec probes).

    healthcheck.py web     GET /health/ready/ on this container (200 expected)
    healthcheck.py live    GET /health/live/ (no dependency)
    healthcheck.py worker  the Celery worker of this container answers a ping
    healthcheck.py beat    beat's schedule file was written recently

Exit 0 = healthy. Standard library only for web/live/beat (fast, no Django).
"""

import glob
import http.client
import os
import socket
import subprocess
import sys
import time


def http_ok(path: str) -> bool:
    host = (
        os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
        or "localhost"
    )
    conn = http.client.HTTPConnection("127.0.0.1", int(os.environ.get("PORT", "8000")), timeout=5)
    # The Host header must be allowed (ALLOWED_HOSTS); X-Forwarded-Proto avoids
    # the HTTPS redirect (health paths are exempt anyway).
    conn.request("GET", path, headers={"Host": host, "X-Forwarded-Proto": "https"})
    return conn.getresponse().status == 200


def worker_ok() -> bool:
    out = subprocess.run(
        [
            "celery",
            "-A",
            "portal",
            "inspect",
            "ping",
            "--timeout",
            "5",
            "--destination",
            f"celery@{socket.gethostname()}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return out.returncode == 0


def beat_ok(max_age: float = 900.0, pattern: str = "/tmp/celerybeat-schedule*") -> bool:
    # Beat syncs its schedule file every few minutes (beat_sync_every / heartbeat).
    files = glob.glob(pattern)
    return bool(files) and time.time() - max(os.path.getmtime(f) for f in files) < max_age


def main(kind: str) -> int:
    checks = {
        "web": lambda: http_ok("/health/ready/"),
        "live": lambda: http_ok("/health/live/"),
        "worker": worker_ok,
        "beat": beat_ok,
    }
    try:
        return 0 if checks[kind]() else 1
    except Exception as exc:  # noqa: BLE001 — any error is "unhealthy"
        print(f"healthcheck {kind}: {exc!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "web"))
