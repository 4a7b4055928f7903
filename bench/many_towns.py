"""Thousands of towns on one PostgreSQL: creation (template), no-op and additive
`migrate_towns`, routing latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guichet_bench_scale \
        .venv/bin/python bench/many_towns.py [--towns 1000 | --towns 5000] [--workers 2]

1. Creates the missing towns `mt-<i>` (Commune + Domain rows, schema replayed
   from the town template), `--create-workers` processes in parallel.
2. (a) `manage.py migrate_towns` with nothing to do, as a fresh process (Django
   start-up included); also the state query alone, and django-tenants'
   `migrate_schemas` on a sample of towns for comparison.
3. (b) the same command with one additive migration (bench_scale_app's
   CreateModel, BENCH_EXTRA_MODELS=1), then undone so the script can run again.
4. (c) routing: TownRoutingMiddleware + URL resolution for random towns, first
   request of a town (one lookup) and warm (as bench/routing.py).

Towns are kept between runs (creation is the long part); `--cleanup` drops them.
Drop the database when done.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
sys.path.append(str(ROOT / "platform"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")
from benchdb import bench_database_url  # noqa: E402

os.environ["DATABASE_URL"] = bench_database_url("guichet_bench_scale")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ["BENCH_EXTRA_MODELS"] = "0"  # towns are created without the throwaway app

PREFIX = "mt"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--towns", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="migrate_towns --workers")
    parser.add_argument("--create-workers", type=int, default=2)
    parser.add_argument(
        "--sample",
        type=int,
        default=10,
        help="towns migrated by django-tenants' migrate_schemas for comparison",
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument(
        "--post-migrate",
        choices=["all", "plan"],
        default="all",
        help="migrate_towns --post-migrate for (b)",
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated among: noop,additive,routing,stock"
    )
    parser.add_argument("--cleanup", action="store_true", help="drop every bench town and stop")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tenants import template
    from tenants.models import Commune

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    if args.cleanup:
        cleanup(connection)
        return
    print(f"load average at start: {_load()} (2 vCPU shared with other jobs)")
    state = template.refresh_template()
    print(f"town template: {state.status}")

    # --- 1. creation ---------------------------------------------------------
    existing = Commune.objects.filter(slug__startswith=f"{PREFIX}-").count()
    missing = list(range(existing, args.towns))
    if missing:
        started = time.perf_counter()
        connection.close()
        chunks = [missing[i :: args.create_workers] for i in range(args.create_workers)]
        with multiprocessing.get_context("fork").Pool(args.create_workers) as pool:
            pool.map(_create_towns, chunks)
        elapsed = time.perf_counter() - started
        print(
            f"created {len(missing)} towns in {elapsed:.1f} s with {args.create_workers} "
            f"processes: {elapsed / len(missing) * 1000:.0f} ms per town (wall, "
            f"{args.create_workers} in parallel)"
        )
    towns = list(
        Commune.objects.filter(slug__startswith=f"{PREFIX}-")
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )[: args.towns]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace")
        namespaces = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_class")
        relations = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print(
        f"towns: {len(towns)}; schemas in the database: {namespaces}; "
        f"pg_class rows: {relations}; database size: {size}"
    )

    # --- 2. (a) no-op ----------------------------------------------------------
    if "noop" not in skip:
        from tenants.migrations_runner import code_migrations, read_town_states

        code = code_migrations()
        reads = []
        for _ in range(3):
            t = time.perf_counter()
            states = read_town_states(towns, code)
            reads.append(time.perf_counter() - t)
        behind = sum(1 for s in states.values() if s.unapplied)
        print(
            f"(a) state of {len(towns)} towns read in {min(reads) * 1000:.0f} ms (best of 3; "
            f"{min(reads) / len(towns) * 1e6:.0f} µs per town), {behind} behind"
        )
        seconds, out = _migrate_towns_process(args.workers, extra_models=0, towns=towns)
        print(
            f"(a) no-op `manage.py migrate_towns` (new process, Django start-up included): "
            f"{seconds:.1f} s for {len(towns)} towns = "
            f"{seconds / len(towns) * 1000:.2f} ms per town"
        )
        print("    " + _summary(out))

    if "stock" not in skip and args.sample:
        sample = random.Random(1).sample(towns, min(args.sample, len(towns)))
        t = time.perf_counter()
        for schema in sample:
            call_command(
                "migrate_schemas",
                tenant=True,
                schema_name=schema,
                interactive=False,
                verbosity=0,
                skip_checks=True,
            )
        per_town = (time.perf_counter() - t) / len(sample)
        connection.set_schema_to_public()
        print(
            f"(a) django-tenants `migrate_schemas` no-op, {len(sample)} sample towns: "
            f"{per_town * 1000:.0f} ms per town -> ~{per_town * len(towns):.0f} s for "
            f"{len(towns)} towns sequentially"
        )

    # --- 3. (b) one additive migration ------------------------------------------
    if "additive" not in skip:
        seconds, out = _migrate_towns_process(
            args.workers, extra_models=1, towns=towns, post_migrate=args.post_migrate
        )
        migrated = int(re.search(r"(\d+) migrée", out).group(1)) if "migrée" in out else 0
        print(
            f"(b) additive migration (CreateModel + indexes; post_migrate for "
            f"{args.post_migrate} apps) with {args.workers} workers: {seconds:.1f} s for "
            f"{migrated} towns = "
            f"{seconds / max(migrated, 1) * 1000:.0f} ms per town (wall)"
        )
        print("    " + _summary(out))
        times = [float(m) for m in re.findall(r"migrée \(1 migration\(s\) en ([\d.]+) s\)", out)]
        if times:
            times.sort()
            print(
                f"    per town inside a worker: p50={times[len(times) // 2] * 1000:.0f} ms "
                f"p95={times[int(len(times) * 0.95)] * 1000:.0f} ms"
            )
        _undo_additive(connection, towns)

    # --- 4. (c) routing -------------------------------------------------------
    if "routing" not in skip:
        _routing(towns, args.requests)
    print(f"load average at end: {_load()}")


def _create_towns(indexes):
    from django.db import connection, transaction

    from tenants.models import Commune, Domain
    from tenants.template import save_new_town

    connection.connection = None  # forked: never reuse the parent's socket
    for n, i in enumerate(indexes):
        if n % 50 == 0:
            # A backend that created many schemas keeps them in its caches and
            # slows down: start a fresh one now and then.
            connection.close()
        with transaction.atomic():
            commune = Commune(
                schema_name=f"{PREFIX}_{i}",
                slug=f"{PREFIX}-{i}",
                name=f"Bench {i}",
                insee_code=f"M{i:04d}",
                department="Bench",
                department_code="00",
                contact_label="Mairie",
                enabled_modules=["periscolaire", "alsh", "petite_enfance", "billing"],
            )
            method = save_new_town(commune)
            assert method == "template", method
            Domain.objects.create(domain=commune.slug, tenant=commune, is_primary=True)
        connection.set_schema_to_public()


def _migrate_towns_process(workers, *, extra_models, towns, post_migrate="all"):
    env = dict(
        os.environ,
        BENCH_EXTRA_MODELS=str(extra_models),
        DJANGO_SETTINGS_MODULE="bench_settings",
        PYTHONPATH=os.pathsep.join([str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")]),
    )
    cmd = [
        sys.executable,
        str(ROOT / "manage.py"),
        "migrate_towns",
        "--no-template",
        f"--workers={workers}",
        "--wave-size=500",
        f"--post-migrate={post_migrate}",
    ]
    from tenants.models import Commune

    if len(towns) < Commune.objects.exclude(schema_name="public").count():
        cmd += towns  # fewer towns than the database holds: name them
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:])
        raise SystemExit(f"migrate_towns failed ({done.returncode})")
    return seconds, done.stdout


def _summary(out):
    lines = [line for line in out.splitlines() if "commune(s) :" in line]
    return lines[-1] if lines else out[-300:]


def _undo_additive(connection, towns):
    """Put the towns back as they were before (b), so the benchmark can run again."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for start in range(0, len(towns), 50):  # bounded: every object dropped takes a lock
            body = "".join(
                f'DROP TABLE IF EXISTS "{s}".bench_scale_app_thing0 CASCADE; '
                f"DELETE FROM \"{s}\".django_migrations WHERE app = 'bench_scale_app'; "
                f'DELETE FROM "{s}".auth_permission WHERE content_type_id IN (SELECT id FROM '
                f"\"{s}\".django_content_type WHERE app_label = 'bench_scale_app'); "
                f"DELETE FROM \"{s}\".django_content_type WHERE app_label = 'bench_scale_app'; "
                for s in towns[start : start + 50]
            )
            cursor.execute(f"DO $$ BEGIN {body} END $$")
    print(f"    (b) undone in {time.perf_counter() - started:.1f} s")


def _routing(towns, requests):
    from django.conf import settings
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.urls import get_resolver, reverse, set_urlconf
    from routing import _report, _time

    from portal.routing import TownRoutingMiddleware
    from portal.routing import towns as directory

    settings.TENANT_URLCONF = settings.ROOT_URLCONF = "bench_urls"
    settings.TOWN_LOOKUP_TTL = 3600.0

    def resolve_like_django(request):
        set_urlconf(getattr(request, "urlconf", None))
        get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
        reverse("town-home"), reverse("api:town")
        return HttpResponse("ok")

    rng = random.Random(7)
    slugs = [s.replace("_", "-") for s in towns]
    middleware = TownRoutingMiddleware(resolve_like_django)
    rf = RequestFactory()
    directory.clear()
    seen = rng.sample(slugs, min(1000, len(slugs)))
    cold = _time(middleware, rf, [f"/{slug}/module-1/page-12/7/" for slug in seen])
    # Warm: random towns among those already looked up (the per-process cache).
    paths = [
        f"/{rng.choice(seen)}/module-{j // 10}/page-{j}/7/"
        for j in (rng.randrange(120) for _ in range(requests))
    ]
    warm = _time(middleware, rf, paths)
    print(f"(c) routing over {len(towns)} towns:")
    _report("    TownRoutingMiddleware, random town already looked up", warm)
    _report("    TownRoutingMiddleware, first request of a random town (one DB lookup)", cold)


def cleanup(connection):
    from tenants.models import Commune

    Commune.objects.filter(slug__startswith=f"{PREFIX}-").delete()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nspname FROM pg_namespace WHERE nspname ~ '^{PREFIX}_[0-9]+$'")
        schemas = [r[0] for r in cursor.fetchall()]
        for start in range(0, len(schemas), 10):  # ~100 relations (locks) per town
            part = schemas[start : start + 10]
            cursor.execute("".join(f'DROP SCHEMA "{s}" CASCADE;' for s in part))
    print(f"dropped {len(schemas)} bench towns")


def _load():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
