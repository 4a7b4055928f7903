"""Dependency checks behind /health/ready/ (core.views.health_ready)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connections

from core import redis_client

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2.0


def database_connections() -> dict:
    """alias -> connection, one per configured PostgreSQL database."""
    return {alias: connections[alias] for alias in connections}


def check_database(conn) -> None:
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis(url: str) -> None:
    redis_client.client(url, TIMEOUT_SECONDS).ping()


def readiness_checks() -> dict[str, str]:
    """name -> "ok" or the error's class name. Databases: one per alias (each
    PostgreSQL cluster once towns are spread over several, docs/scaling.md)."""
    checks = {
        f"database.{alias}": (check_database, conn)
        for alias, conn in database_connections().items()
    }
    if settings.REDIS_URL:
        checks["redis"] = (check_redis, settings.REDIS_URL)
    results = {}
    for name, (check, arg) in checks.items():
        try:
            check(arg)
        except Exception as exc:  # noqa: BLE001 — any failure means "not ready"
            log.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
            results[name] = type(exc).__name__
        else:
            results[name] = "ok"
    return results
