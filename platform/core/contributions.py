"""Contribution points of the apps to the platform's hubs (contract A, thin
local version: the #18 work replaces this file with the full one; names agreed).

Any AppConfig may define `staff_nav(self, request) -> list[NavEntry]` and
`staff_counters(self, request) -> list[Counter]`; a service module only
contributes for a town that has it switched on. Staff entries are filtered by
the user's areas (`user.works_in(area)`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    order: int = 100
    area: str | None = None
    icon: str = ""
    match: str = ""


@dataclass(frozen=True)
class Counter:
    label: str
    count: int
    url: str
    area: str | None = None
    tone: str = "info"
    order: int = 100


def _configs(request):
    from core.modules import ServiceModuleConfig

    enabled = set(getattr(getattr(request, "commune", None), "enabled_modules", ()) or ())
    for config in apps.get_app_configs():
        if isinstance(config, ServiceModuleConfig) and config.module_code not in enabled:
            continue
        yield config


def _allowed(user, area) -> bool:
    return area is None or user.works_in(area)


def staff_nav(request) -> list[NavEntry]:
    out = []
    for config in _configs(request):
        hook = getattr(config, "staff_nav", None)
        for entry in (hook(request) if hook else None) or []:
            if not _allowed(request.user, entry.area):
                continue
            try:
                reverse(entry.url_name)
            except NoReverseMatch:
                continue
            out.append(entry)
    return sorted(out, key=lambda e: e.order)


def staff_counters(request) -> list[Counter]:
    out = []
    for config in _configs(request):
        hook = getattr(config, "staff_counters", None)
        counters = (hook(request) if hook else None) or []
        out.extend(c for c in counters if _allowed(request.user, c.area))
    return sorted(out, key=lambda c: c.order)
