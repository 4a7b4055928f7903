"""Routing cost per request: our TownRoutingMiddleware vs django-tenants'
TenantSubfolderMiddleware, with 1,000 towns and 140+ routes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guichet_bench \
        python bench/routing.py [--towns 1000]

Measures middleware + URL resolution (what routing costs before a view runs),
in one process, warm. Prints p50/p95/mean in milliseconds. The towns are public
rows only (routing never touches their schemas before the view).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
sys.path.append(str(ROOT / "platform"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
from benchdb import bench_database_url  # noqa: E402

os.environ["DATABASE_URL"] = bench_database_url("guichet_bench")
os.environ.setdefault("LOG_LEVEL", "ERROR")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--towns", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.urls import clear_url_caches, get_resolver, set_urlconf

    from tenants.models import Commune, Domain

    settings.TENANT_URLCONF = settings.ROOT_URLCONF = "bench_urls"
    settings.TOWN_LOOKUP_TTL = 3600.0
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    existing = Commune.objects.filter(slug__startswith="bench-").count()
    if existing < args.towns:
        communes = Commune.objects.bulk_create(
            Commune(
                schema_name=f"bench_{i}",
                slug=f"bench-{i}",
                name=f"Bench {i}",
                insee_code=f"B{i:04d}",
                department="Bench",
                department_code="00",
                contact_label="Mairie",
                enabled_modules=["periscolaire", "alsh", "petite_enfance", "billing"],
            )
            for i in range(existing, args.towns)
        )
        Domain.objects.bulk_create(
            Domain(domain=c.slug, tenant=c, is_primary=True) for c in communes
        )
    routes = sum(1 for _ in _walk(get_resolver("bench_urls").url_patterns))
    print(f"towns: {Commune.objects.filter(slug__startswith='bench-').count()}, routes: {routes}")

    rf = RequestFactory()
    rng = random.Random(42)
    paths = [
        f"/bench-{rng.randrange(args.towns)}/module-{j // 10}/page-{j}/7/"
        for j in (rng.randrange(120) for _ in range(args.requests))
    ]

    from django.urls import reverse

    def resolve_like_django(request):
        # What Django does before and in a view: resolve the path, then a page
        # reverses a few URLs (menus, links), which populates the resolver.
        set_urlconf(getattr(request, "urlconf", None))
        get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
        reverse("town-home"), reverse("api:town")
        return HttpResponse("ok")

    from portal.routing import TownRoutingMiddleware, towns

    ours = TownRoutingMiddleware(resolve_like_django)
    towns.clear()
    firsts = [f"/bench-{i}/module-1/page-12/7/" for i in range(args.towns)]
    cold = _time(ours, rf, firsts)  # the first request of each town: one DB lookup each
    warm = _time(ours, rf, paths)
    _report("TownRoutingMiddleware (lookup cached, shared resolver)", warm)
    _report("TownRoutingMiddleware (first request of a town: DB lookup)", cold)

    from django_tenants.middleware.subfolder import TenantSubfolderMiddleware

    settings.TENANT_SUBFOLDER_PREFIX = "t"
    stock = TenantSubfolderMiddleware(resolve_like_django)
    stock_paths = ["/t" + p for p in paths[:300]]

    def stock_call(request):
        # Its get_response sees the full path with the per-tenant URLconf.
        stock.process_request(request)
        set_urlconf(request.urlconf)
        get_resolver(request.urlconf).resolve(request.path_info)
        reverse("town-home"), reverse("api:town")
        return HttpResponse("ok")

    _report("django-tenants TenantSubfolderMiddleware (stock)", _time(stock_call, rf, stock_paths))
    clear_url_caches()


def _walk(patterns):
    for p in patterns:
        if hasattr(p, "url_patterns"):
            yield from _walk(p.url_patterns)
        else:
            yield p


def _time(handler, rf, paths):
    out = []
    for path in paths:
        request = rf.get(path)
        t = time.perf_counter()
        handler(request)
        out.append((time.perf_counter() - t) * 1000)
    return out


def _report(label, samples):
    samples = sorted(samples)
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]  # noqa: E731
    print(
        f"{label}: n={len(samples)} p50={p(0.5):.3f} ms p95={p(0.95):.3f} ms "
        f"mean={statistics.fmean(samples):.3f} ms"
    )


if __name__ == "__main__":
    main()
