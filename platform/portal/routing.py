"""Per-town subpath routing: `/<slug>/...` runs in that town's schema.

Why not django-tenants' TenantSubfolderMiddleware: it rebuilds a URLconf and
clears Django's URL caches on every request (~12 ms with 150 routes). Here the
town's slug is moved from PATH_INFO into the script prefix, so ONE resolver
serves every town (Django caches it per URLconf module) and `reverse()` yields
`/<slug>/...` by itself. The slug -> town lookup is cached per process for
TOWN_LOOKUP_TTL seconds. docs/decisions/0002-routing-middleware.md has the
figures; bench/routing.py measures them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sentry_sdk
from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponsePermanentRedirect
from django.template.response import TemplateResponse
from django.urls import get_script_prefix, set_script_prefix

from core.api import problem_response
from core.context import current_town
from core.modules import module_codes
from core.towns import towns_changed
from tenants.models import Domain


@dataclass(frozen=True)
class _Entry:
    expires: float
    commune: object | None  # tenants.Commune, or None for "no such town"


class TownDirectory:
    """Process-local cache of path segment -> Commune (public schema lookups)."""

    MAX_ENTRIES = 20_000  # ~35k communes in France: bounded, cheap entries

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def clear(self) -> None:
        self._entries.clear()

    def lookup(self, segment: str) -> _Entry:
        if settings.TOWN_LOOKUP_TTL <= 0:  # no caching at all (tests: frozen clocks lie)
            return self._load(segment, 0.0)
        now = time.monotonic()
        entry = self._entries.get(segment)
        if entry is not None and entry.expires > now:
            return entry
        entry = self._load(segment, now)
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[segment] = entry
        return entry

    @staticmethod
    def _load(segment: str, now: float) -> _Entry:
        connection.set_schema_to_public()
        domain = (
            Domain.objects.select_related("tenant")
            .filter(domain=segment)
            .exclude(tenant__schema_name="public")
            .first()
        )
        expires = now + settings.TOWN_LOOKUP_TTL
        return _Entry(expires, domain.tenant if domain else None)


towns = TownDirectory()
towns_changed.connect(lambda **kwargs: towns.clear(), weak=False, dispatch_uid="routing-towns")


class _PublicTenant:
    """request.tenant on the platform's own pages (request.commune is None there)."""

    schema_name = "public"
    slug = ""
    enabled_modules: tuple = ()

    def __bool__(self) -> bool:
        return False


PUBLIC = _PublicTenant()


def _first_segment(path: str) -> tuple[str, str]:
    """'/castres/ma-famille/' -> ('castres', '/ma-famille/')."""
    stripped = path[1:] if path.startswith("/") else path
    segment, sep, rest = stripped.partition("/")
    return segment, ("/" + rest) if sep else ""


class TownRoutingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.reserved = frozenset(settings.RESERVED_SLUGS)

    def __call__(self, request):
        segment, rest = _first_segment(request.path_info)
        entry = None
        if segment and segment.lower() not in self.reserved:
            entry = towns.lookup(segment.lower())
        if entry is None or entry.commune is None:
            return self._public(request)
        if segment != entry.commune.slug:  # /ville-castres/ (old portal's path), /Castres/
            target = f"/{entry.commune.slug}{rest or '/'}"
            if request.META.get("QUERY_STRING"):
                target += "?" + request.META["QUERY_STRING"]
            return HttpResponsePermanentRedirect(target)
        if not rest:  # /castres -> /castres/
            return HttpResponsePermanentRedirect(f"/{segment}/")
        return self._town(request, entry.commune, segment, rest)

    def _public(self, request):
        current_town.set("")
        connection.set_schema_to_public()
        request.tenant = PUBLIC  # django-tenants' templates read request.tenant.schema_name
        request.commune = None
        request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
        return self.get_response(request)

    def _town(self, request, commune, segment, rest):
        request.tenant = request.commune = commune
        if not commune.is_active:
            # Suspended town: its families see a maintenance page; nothing is deleted.
            connection.set_schema_to_public()
            return TemplateResponse(
                request, "portal/suspended.html", {"commune": commune}, status=503
            ).render()
        request.path_info = rest
        request.META["SCRIPT_NAME"] = f"/{segment}"
        request.urlconf = settings.TENANT_URLCONF
        previous_prefix = get_script_prefix()
        set_script_prefix(f"/{segment}/")
        # Not reset afterwards: Django logs the response after the middleware
        # chain returns, and that log line must still name the town.
        current_town.set(commune.slug)
        if sentry_sdk.get_client().is_active():
            sentry_sdk.set_tag("town", commune.slug)  # errors and traces by town
        connection.set_tenant(commune)
        try:
            return self.get_response(request)
        finally:
            connection.set_schema_to_public()
            set_script_prefix(previous_prefix)


class ModuleGateMiddleware:
    """A module switched off for a town has no reachable page or API there.

    Module URLconfs are included under a namespace equal to the module code
    (core.modules); a resolved view under a disabled module's namespace is a 404.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        commune = getattr(request, "commune", None)
        match = request.resolver_match
        if commune is None or match is None:
            return None
        for app_name in match.app_names:
            if app_name in module_codes() and app_name not in commune.enabled_modules:
                if match.app_names[0] == "api":
                    return problem_response(404, "Ce service n'est pas proposé par cette commune.")
                raise Http404("Ce service n'est pas proposé par cette commune.")
        return None
