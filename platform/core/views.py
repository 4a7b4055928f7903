"""Pages shared by every town and the platform's own pages."""

import hmac

from django.conf import settings
from django.db import connection
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView

from core import town_config
from core.access import PUBLIC, access
from core.contributions import town_key_dates
from core.front_page import merged_contacts
from core.health import readiness_checks
from core.identity import town_colours
from core.models import TownLogo
from core.modules import registry
from core.towns import active_towns


@access(PUBLIC)
def platform_home(request):
    communes = active_towns().order_by("name")
    return render(request, "portal/platform_home.html", {"communes": communes})


@access(PUBLIC)
@never_cache
def health(request):
    """200 once the server serves and its database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@access(PUBLIC)
@never_cache
def health_live(request):
    """Liveness: the process answers. No dependency is checked, so a database
    outage never makes the orchestrator restart every web process at once."""
    return JsonResponse({"status": "ok"})


@access(PUBLIC)
@never_cache
def health_ready(request):
    """Readiness: every database alias and Redis (when configured) answer.

    503 lists what failed. Only the error's class is shown (this URL is
    public); the full error goes to the logs.
    """

    checks = readiness_checks()
    failed = sorted(name for name, result in checks.items() if result != "ok")
    return JsonResponse(
        {"status": "unavailable" if failed else "ok", "checks": checks, "failed": failed},
        status=503 if failed else 200,
    )


@access(PUBLIC)
@never_cache
def metrics(request):
    """Prometheus exposition (django-prometheus), behind METRICS_TOKEN when set."""

    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return JsonResponse({"detail": "Authentification requise."}, status=401)
    return ExportToDjangoView(request)


@access(PUBLIC)
def town_home(request):
    """The town's front page: what the portal offers, sign in / create my
    space, the next key dates, news (content's tag), contacts each once."""

    modules = registry()
    services = list(town_config.services())
    enabled = [modules[c] for c in town_config.enabled_modules(request.commune) if c in modules]
    return render(
        request,
        "core/town_home.html",
        {
            "contacts": merged_contacts(town_config.contacts()),
            "modules": [(m, [s for s in services if s.module == m.module_code]) for m in enabled],
            "key_dates": town_key_dates(request, timezone.now(), timezone.localdate(), services),
        },
    )


@access(PUBLIC, everyone="not_found")  # no logo uploaded in the matrix's town
def town_logo(request):
    """The logo its admin uploaded (checked PNG or JPEG), cached a day: its
    URL carries the upload time, so a new logo is a new URL."""

    logo = TownLogo.objects.first()
    if logo is None or not logo.image:
        raise Http404
    response = FileResponse(logo.image.open("rb"), content_type=logo.content_type)
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@access(PUBLIC)
def town_favicon(request):
    """An SVG favicon in the town's colour with its initial (no upload needed)."""

    colour = town_colours(request.commune)["primary_color"]
    initial = escape((request.commune.name or "?")[:1].upper())
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="14" fill="{colour}"/>'
        '<text x="32" y="45" font-family="sans-serif" font-size="38" font-weight="700" '
        f'text-anchor="middle" fill="#ffffff">{initial}</text></svg>'
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=3600"
    return response


def module_home(request, module_code):
    module = registry().get(module_code)
    if module is None:
        raise Http404
    services = town_config.services(module=module_code)
    return render(request, "core/module_home.html", {"module": module, "services": services})
