"""Shared helpers for the booking tests (plain functions, no database)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

import yaml
from django.conf import settings

from booking.deadlines import ServiceDeadlines, parse_deadlines
from booking.french import PARIS

US = timedelta(microseconds=1)


def paris(y, m, d, h=0, mi=0, s=0, us=0, *, fold=0) -> datetime:
    return datetime(y, m, d, h, mi, s, us, tzinfo=PARIS, fold=fold)


def last_instant_of_minute(dt: datetime) -> datetime:
    """23:59 -> 23:59:59.999999 (the last instant a limit allows)."""
    return dt.replace(second=59, microsecond=999_999)


@cache
def town(slug: str) -> dict:
    path = settings.TENANT_CONFIGS_DIR / f"{slug}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def real_rules(slug: str, service: str) -> ServiceDeadlines:
    """The deadlines of one service, read from the town's real YAML."""
    for s in town(slug)["services"]:
        if s["code"] == service:
            return parse_deadlines(s["deadlines"], key=f"{slug}.{service}")
    raise KeyError(f"{slug} has no service {service}")


def d(y, m, dd) -> date:
    return date(y, m, dd)
