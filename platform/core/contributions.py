"""Registry contribution points (contract A, docs: architecture.md).

Any AppConfig may contribute navigation entries, dashboard cards and calendar
entries by defining the hook methods below; a service module
(ServiceModuleConfig) contributes only for a town that has it switched on.
The hubs (family dashboard, family nav) name no module: they render what the
collectors return, ordered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from core.modules import ServiceModuleConfig


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    order: int = 100
    area: str | None = None
    icon: str = ""
    match: str = ""  # URL prefix (after the town) that marks the entry current

    @property
    def url(self) -> str:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return ""


@dataclass(frozen=True)
class DashboardCard:
    template: str
    order: int = 100
    context: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Counter:
    label: str
    count: int
    url: str
    area: str | None = None
    tone: str = "info"
    order: int = 100


@dataclass(frozen=True)
class CalendarEntry:
    child_id: int
    day: date
    service_label: str
    state: str
    state_label: str
    detail: str = ""
    price: Decimal | None = None
    price_explanation: str = ""
    url: str = ""
    order: int = 100


def _enabled(cfg, request) -> bool:
    if not isinstance(cfg, ServiceModuleConfig):
        return True
    commune = getattr(request, "commune", None)
    return cfg.module_code in set(getattr(commune, "enabled_modules", ()) or ())


def _collect(request, hook: str, *args) -> list:
    out = []
    for cfg in apps.get_app_configs():
        method = getattr(cfg, hook, None)
        if method is None or not _enabled(cfg, request):
            continue
        out.extend(method(request, *args) or [])
    return out


def _staff_allowed(request, entries):
    user = request.user
    return [
        e
        for e in entries
        if e.area is None or (getattr(user, "works_in", None) and user.works_in(e.area))
    ]


def family_nav(request) -> list[NavEntry]:
    entries = dict.fromkeys(_collect(request, "family_nav"))  # the same entry once
    return sorted(entries, key=lambda e: (e.order, e.label))


def family_dashboard_cards(request, household) -> list[DashboardCard]:
    return sorted(_collect(request, "family_dashboard_cards", household), key=lambda c: c.order)


def family_calendar_entries(request, household, start: date, end: date) -> list[CalendarEntry]:
    entries = _collect(request, "family_calendar_entries", household, start, end)
    return sorted(entries, key=lambda e: (e.day, e.child_id, e.order, e.service_label))


def staff_nav(request) -> list[NavEntry]:
    entries = [e for e in _staff_allowed(request, _collect(request, "staff_nav")) if e.url]
    return sorted(entries, key=lambda e: (e.order, e.label))


def staff_counters(request) -> list[Counter]:
    return sorted(
        _staff_allowed(request, _collect(request, "staff_counters")), key=lambda c: c.order
    )


def backoffice_config_pages(request) -> list[NavEntry]:
    entries = _staff_allowed(request, _collect(request, "backoffice_config_pages"))
    return sorted(entries, key=lambda e: (e.order, e.label))
