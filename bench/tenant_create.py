"""Creating a town's schema: migrations vs the town template (vs django-tenants' clone_schema)
vs the pool of prepared schemas (tenants/pool.py: one renamed), and a whole onboarding
with and without the pool.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guichet_bench_scale \
        .venv/bin/python bench/tenant_create.py [--towns 50] [--extra-models 80] [--methods ...]

Each creation runs in its own transaction, committed, as onboarding does; the
time per town is wall time of that transaction (for the template: one round
trip, i.e. database work). `--extra-models N` adds N synthetic models
(bench/bench_scale_app) to simulate the schema the product will reach. The
benchmark's schemas are dropped at the end; the database is created if missing
(drop it yourself when done).
"""

from __future__ import annotations

import argparse
import os
import statistics
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

METHODS = ("migrations", "template", "clone", "pool", "onboarding", "onboarding_pool")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--towns", type=int, default=50)
    parser.add_argument(
        "--extra-models",
        type=int,
        default=0,
        help="synthetic models added to every town (bench_scale_app)",
    )
    parser.add_argument(
        "--methods",
        default="migrations,template,clone,pool,onboarding,onboarding_pool",
        help=f"comma-separated among {', '.join(METHODS)}",
    )
    args = parser.parse_args()
    os.environ["BENCH_EXTRA_MODELS"] = str(args.extra_models)
    methods = [m for m in args.methods.split(",") if m]

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_tenants.clone import CloneSchema

    from tenants import template

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    cleanup(connection)

    started = time.perf_counter()
    state = template.refresh_template(force=True)
    print(
        f"template refresh (migrate + generate + verify): {time.perf_counter() - started:.2f} s "
        f"-> {state.status}"
    )
    script = template.template_script()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE relkind = 'r'), "
            "count(*) FILTER (WHERE relkind = 'i'), count(*) "
            "FROM pg_class WHERE relnamespace = %s::regnamespace",
            [template.template_schema()],
        )
        tables, indexes, relations = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_namespace")
        namespaces = cursor.fetchone()[0]
    print(
        f"town schema: {tables} tables, {indexes} indexes, {relations} relations; "
        f"script: {script.statements} statements, {len(script.sql) / 1024:.0f} KiB, "
        f"generated in {script.seconds * 1000:.0f} ms; schemas in the database: {namespaces}"
    )
    print(f"{args.towns} towns per method, load average before: {_load()}")

    clone = CloneSchema()
    results: dict[str, list[float]] = {}
    from tenants import pool

    for method in methods:
        samples, cpu = [], []
        # The pool is filled beforehand (the beat's job in production), untimed.
        pool.fill_pool(args.towns if method in ("pool", "onboarding_pool") else 0)
        for i in range(args.towns):
            schema = f"bench_tc_{method[:4]}_{i}"
            # A fresh connection per town, as a web request gets (CONN_MAX_AGE=0):
            # a backend that created hundreds of schemas has bloated caches and
            # every DDL slows down (seen: 70 ms -> 5 s per town after clone_schema).
            connection.close()
            backend = _backend_cpu(connection)
            t = time.perf_counter()
            if method in ("onboarding", "onboarding_pool"):
                from tenants.onboarding import onboard_commune

                onboard_commune(config=_config(i, method))
            else:
                with transaction.atomic():
                    if method == "migrations":
                        template._create_by_migrations(schema, using="default")
                    elif method == "template":
                        template.replay(script, schema)
                    elif method == "clone":
                        clone.clone_schema(template.template_schema(), schema, "DATA")
                    elif method == "pool":
                        assert template.create_town_schema(schema) == "pool"
            samples.append(time.perf_counter() - t)
            cpu.append(_backend_cpu(connection) - backend)
            connection.set_schema_to_public()
        results[method] = samples
        _report(method, samples, cpu)
    print(f"load average after: {_load()}")

    if "clone" in methods:
        same = None
        if "template" in methods:
            same = template.describe_schema("bench_tc_clon_0") == template.describe_schema(
                "bench_tc_temp_0"
            )
        print(f"clone_schema gives the same catalog as the template: {same}")
    if "migrations" in methods and "template" in methods:
        same = template.describe_schema("bench_tc_migr_0") == template.describe_schema(
            "bench_tc_temp_0"
        )
        print(f"template gives the same catalog as migrations: {same}")
        ratio = statistics.median(results["migrations"]) / statistics.median(results["template"])
        print(f"template is {ratio:.1f}x faster than migrations (median)")
    cleanup(connection)


def _config(i, method="onboarding"):
    import yaml

    from tenants.config import validate

    n = i + (5000 if method == "onboarding_pool" else 0)
    data = yaml.safe_load((ROOT / "tenant_configs" / "castres.yaml").read_text())
    data.update(slug=f"bench-onb-{n}", name=f"Bench {n}", insee_code=f"9{n:04d}", aliases=[])
    return validate(data, source=f"bench-onb-{n}")


def cleanup(connection):
    from tenants import pool
    from tenants.models import Commune

    pool.fill_pool(0)
    Commune.objects.filter(slug__startswith="bench-onb-").delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_tc\\_%' "
            "OR nspname LIKE 'bench\\_onb\\_%'"
        )
        for (schema,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _report(label, samples, cpu):
    s = sorted(samples)
    p = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
    print(
        f"{label:>11}: n={len(s)} wall p50={p(0.5) * 1000:.0f} ms p95={p(0.95) * 1000:.0f} ms "
        f"mean={statistics.fmean(s) * 1000:.0f} ms min={s[0] * 1000:.0f} ms "
        f"total={sum(s):.1f} s; "
        f"PostgreSQL backend CPU p50={statistics.median(cpu) * 1000:.0f} ms"
    )


def _backend_cpu(connection) -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine:
    /proc), i.e. the database's own work, whatever the load of the machine."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
