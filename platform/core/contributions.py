"""Contribution points: how an app puts entries on the platform's pages.

The family dashboard, the family navigation, the staff home and its menu, the
town admin's configuration page and the per-town scheduler are drawn from what
the installed apps return here. They name no module: a service module is known
only through its AppConfig (docs/architecture.md, "Contribution points").

An app contributes by defining hook methods on its AppConfig (all optional;
`Contributor` documents them with empty defaults):

    class BillingConfig(ServiceModuleConfig):
        def family_dashboard_cards(self, request, household):
            return [DashboardCard("billing/_dashboard_card.html", order=20)]

Each collector below merges the hook's answers over the installed apps, in
`order` (ties: INSTALLED_APPS order):
- a service module (`ServiceModuleConfig`) contributes only for a town that has
  it switched on (`commune.enabled_modules`);
- staff entries carry the service `area` they need (`User.works_in`) and, for a
  few configuration pages, the `roles` allowed; others are dropped;
- a navigation entry whose URL name does not resolve in the town URLconf is
  dropped (an app whose URLs are not mounted shows nothing).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from core import town_config


@dataclass(frozen=True)
class NavEntry:
    """A link in a menu or on a home page.

    `url_name` is reversed in the town URLconf (the collector fills `url`);
    `area`: the staff service area required (None: every staff member);
    `match`: space-separated URL names (`ns:name`, or `ns:*` for a whole
    namespace) under which the entry is the current page (default: url_name;
    the collector fills `current`); `roles`: restrict to these staff roles;
    `group` and `description`: how a home page lays the entry out.
    """

    label: str
    url_name: str
    order: int = 100
    area: str | None = None
    icon: str = ""
    match: str = ""
    roles: tuple[str, ...] = ()
    group: str = ""
    description: str = ""
    url: str = ""
    current: bool = False


@dataclass(frozen=True)
class DashboardCard:
    """A card of a dashboard, rendered with `{% render_card card %}`
    (core/templatetags/contributions.py): the card's template sees the page's
    context plus `card` and the keys of `card.context`. `area` (staff cards
    only): the service area required."""

    template: str
    order: int = 100
    context: dict = field(default_factory=dict)
    area: str | None = None


@dataclass(frozen=True)
class Counter:
    """A work-queue figure on the staff home ("12 demandes à traiter")."""

    label: str
    count: int
    url: str
    area: str | None = None
    tone: str = "info"  # info | ok | warn | danger
    order: int = 100


@dataclass(frozen=True)
class CalendarEntry:
    """One day of one child in a service, for the family calendar."""

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


@dataclass(frozen=True)
class PeriodicJob:
    """A task run in every active town that has the app, from one beat entry
    (core.scheduling.beat_entries, added by portal.celery): `task` is the Celery
    task's name, `schedule` a celery schedule (crontab(...) or seconds), the
    towns spread over `window_seconds`. `module` (filled by the collector for a
    service module): only the towns that have it on; `town_filter`: lookups on
    the town (e.g. {"config__api_particulier__refresh": True}; only
    sections without a derived copy, decisions/0006)."""

    name: str
    task: str
    schedule: object
    window_seconds: int = 3600
    kwargs: dict = field(default_factory=dict)
    queue: str | None = None
    module: str | None = None
    town_filter: dict = field(default_factory=dict)


class Contributor:
    """Documentation base of the hooks: an AppConfig may inherit it (or simply
    define the methods it needs). Every hook returns a list, empty by default."""

    def family_nav(self, request) -> list[NavEntry]:
        return []

    def family_dashboard_cards(self, request, household) -> list[DashboardCard]:
        return []

    def family_calendar_entries(
        self, request, household, start: date, end: date
    ) -> list[CalendarEntry]:
        return []

    def staff_nav(self, request) -> list[NavEntry]:
        return []

    def staff_counters(self, request) -> list[Counter]:
        return []

    def staff_home_cards(self, request) -> list[DashboardCard]:
        return []

    def staff_family_sections(self, request, household) -> list:
        """Sections of a family's record in the back-office (objects with
        `template`, `context`, `order`)."""
        return []

    def backoffice_config_pages(self, request) -> list[NavEntry]:
        return []

    def periodic_jobs(self) -> list[PeriodicJob]:
        return []

    def town_key_dates(self, request, now, today, services) -> list:
        """Key dates on the town's public home (core.front_page.KeyDate)."""
        return []

    def import_entities(self) -> list:
        """Files this app adds to the import of a town's families from its
        previous portal (families.imports.Importer: columns, checks, writes)."""
        return []


# --- which apps take part --------------------------------------------------------------


def _module_code(app_config) -> str | None:
    """The module code of a service module's AppConfig, None for a platform app."""
    return getattr(app_config, "module_code", None) or None


def contributors(request, hook: str) -> list:
    """The bound hook of every installed app defining it, for this request's
    town: a service module the town has switched off takes no part."""
    commune = getattr(request, "commune", None) if request is not None else None
    enabled = set(town_config.enabled_modules(commune))
    out = []
    for app_config in apps.get_app_configs():
        method = getattr(app_config, hook, None)
        if method is None:
            continue
        code = _module_code(app_config)
        if code is not None and code not in enabled:
            continue
        out.append(method)
    return out


def _collect(request, hook: str, *args) -> list:
    items = []
    for method in contributors(request, hook):
        items.extend(method(request, *args) or [])
    return sorted(items, key=lambda item: item.order)  # stable: app order for ties


# --- staff filtering and URLs ------------------------------------------------------------


def staff_may_see(user, area: str | None, roles: tuple[str, ...] = ()) -> bool:
    if not getattr(user, "is_town_staff", False):
        return False
    if roles and user.role not in roles:
        return False
    return area is None or user.works_in(area)


def _is_current(entry: NavEntry, request) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return False
    here = match.view_name
    namespace = match.namespace
    for pattern in (entry.match or entry.url_name).split():
        if pattern == here or (pattern.endswith(":*") and pattern[:-2] == namespace):
            return True
    return False


def _resolved(request, entries: list[NavEntry]) -> list[NavEntry]:
    out = []
    for entry in entries:
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        out.append(dataclasses.replace(entry, url=url, current=_is_current(entry, request)))
    return out


def _is_staff(request) -> bool:
    return getattr(getattr(request, "user", None), "is_town_staff", False)


def _staff_only(request, items: list) -> list:
    user = getattr(request, "user", None)
    return [
        item
        for item in items
        if staff_may_see(user, getattr(item, "area", None), getattr(item, "roles", ()))
    ]


# --- collectors ----------------------------------------------------------------------------


def family_nav(request) -> list[NavEntry]:
    return _resolved(request, _collect(request, "family_nav"))


def family_dashboard_cards(request, household) -> list[DashboardCard]:
    return _collect(request, "family_dashboard_cards", household)


def family_calendar_entries(request, household, start: date, end: date) -> list[CalendarEntry]:
    items = []
    for method in contributors(request, "family_calendar_entries"):
        items.extend(method(request, household, start, end) or [])
    return sorted(items, key=lambda e: (e.day, e.child_id, e.order))


def staff_nav(request) -> list[NavEntry]:
    if not _is_staff(request):
        return []  # staff hooks never run for a family or a visitor
    return _resolved(request, _staff_only(request, _collect(request, "staff_nav")))


def staff_counters(request) -> list[Counter]:
    if not _is_staff(request):
        return []
    return _staff_only(request, _collect(request, "staff_counters"))


def staff_home_cards(request) -> list[DashboardCard]:
    if not _is_staff(request):
        return []
    return _staff_only(request, _collect(request, "staff_home_cards"))


def staff_family_sections(request, household) -> list:
    if not _is_staff(request):
        return []
    return _collect(request, "staff_family_sections", household)


def backoffice_config_pages(request) -> list[NavEntry]:
    if not _is_staff(request):
        return []
    entries = _collect(request, "backoffice_config_pages")
    return _resolved(request, _staff_only(request, entries))


def periodic_jobs(enabled_modules=None) -> list[PeriodicJob]:
    """Every app's periodic jobs (no request: the dispatcher runs them per town;
    a module's job runs only in the towns that have it: core.scheduling)."""
    jobs = []
    for app_config in apps.get_app_configs():
        method = getattr(app_config, "periodic_jobs", None)
        if method is None:
            continue
        code = _module_code(app_config)
        if enabled_modules is not None and code is not None and code not in enabled_modules:
            continue
        jobs.extend(dataclasses.replace(job, module=job.module or code) for job in method() or [])
    return jobs


def town_key_dates(request, now, today, services) -> list:
    """The key dates of the town's public home, in app order (each app sorts its own)."""
    items = []
    for method in contributors(request, "town_key_dates"):
        items.extend(method(request, now, today, services) or [])
    return items


def import_entities(commune) -> list:
    """Every app's contributed import files (families.imports.Importer) in
    `order`; a service module's only for a town that has it on. No request:
    the command and the Celery task run it too."""
    enabled = set(town_config.enabled_modules(commune))
    items = []
    for app_config in apps.get_app_configs():
        method = getattr(app_config, "import_entities", None)
        if method is None:
            continue
        code = _module_code(app_config)
        if code is not None and code not in enabled:
            continue
        items.extend(method() or [])
    return sorted(items, key=lambda item: item.order)


def grouped(entries: list[NavEntry], default: str = "Travail") -> dict[str, list[NavEntry]]:
    """{group: entries} in first-seen order (the staff home's sections)."""
    groups: dict[str, list[NavEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.group or default, []).append(entry)
    return groups
