"""Importing a town's families from its previous portal (issue 22).

    python bench/import_families.py [--households 4000] [--big-children 20000]
    database: BENCH_DATABASE_URL (default: the embedded server of `make run`,
    database guichet_bench_import)

1. A generated town (families.import_samples) of N households and 1.75 N
   children (4,000 / 7,000), every file of the import (households,
   representatives, children, health, authorised persons, QF, registrations,
   opening balances) with 2 % faulty lines: dry run (its refused (file, line)
   must be exactly the injected ones), real run, second run (creates nothing).
   Prints times, lines/s and the peak memory of each step (tracemalloc: Python
   allocations, plus the process's max RSS).
2. Memory with a town of --big-children children (the « 20,000 children » of
   the issue; every file): dry run and real run, peak Python memory.
The town (`benchimport`) is emptied of imported rows before each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
sys.path.append(str(ROOT / "platform"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
from benchdb import bench_database_url  # noqa: E402

os.environ["DATABASE_URL"] = bench_database_url("guichet_bench_import", env="BENCH_DATABASE_URL")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

SLUG = "benchimport"
TODAY = dt.date(2026, 12, 7)


def town():
    import yaml
    from django.conf import settings
    from django.core.management import call_command

    from tenants.config import validate
    from tenants.models import Commune
    from tenants.onboarding import onboard_commune

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    existing = Commune.objects.filter(slug=SLUG).first()
    if existing:
        call_command(
            "migrate_schemas", schema_name=existing.schema_name, interactive=False, verbosity=0
        )
        return existing
    data = yaml.safe_load((settings.TENANT_CONFIGS_DIR / "castres.yaml").read_text())
    data.update(slug=SLUG, name="Benchimport", insee_code="99998", aliases=[])
    return onboard_commune(config=validate(data, source="bench")).commune


def empty():
    from booking.models import Registration
    from families.models import (
        Adult,
        Child,
        EntourageMember,
        HealthSheet,
        Household,
        ImportedRecord,
    )
    from modules.billing.maintenance import maintenance, purge_household_billing

    with maintenance():
        purge_household_billing(list(Household.objects.values_list("pk", flat=True)))
    Registration.objects.all().delete()
    Household.objects.update(payer=None)
    for model in (HealthSheet, EntourageMember, ImportedRecord):
        model.objects.all().delete()
    Child.guardians.through.objects.all().delete()
    Child.objects.all().delete()
    Adult.objects.all().delete()
    Household.objects.all().delete()


def measured(label, fn, *, memory=False):
    """Time a step; with memory=True, run under tracemalloc (slower: its time is
    not the one to read) and print the peak of Python allocations."""
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    line = f"{label:<40} {seconds:7.1f} s"
    if memory:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        line += f"   pic Python {peak / 2**20:6.1f} Mo"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{line}   RSS max du processus {rss:6.0f} Mo", flush=True)
    return result, seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=4000)
    parser.add_argument("--big-children", type=int, default=20000, help="0: no memory step")
    args = parser.parse_args()

    import django

    django.setup()
    from django_tenants.utils import tenant_context

    from families.import_samples import generate, streams
    from families.imports import run_import

    print(f"charge avant : {os.getloadavg()[0]:.1f}")
    commune = town()
    files, faulty = generate(args.households, today=TODAY)
    lines = sum(data.count(b"\n") - 1 for _name, data in files.values())
    print(f"{args.households} foyers, {lines} lignes en tout, {len(faulty)} lignes fautives")
    for code, (name, data) in files.items():
        n = data.count(b"\n") - 1
        bad = sum(1 for f, _line in faulty if f == name)
        print(f"  {code:<22} {n:6d} lignes, {bad:4d} fautives")
    with tenant_context(commune):
        empty()
        dry, _s = measured("essai à blanc", lambda: run_import(streams(files), today=TODAY))
        refused = {(r.filename, r.line) for f in dry.files for r in f.refusals}
        assert refused == faulty, (len(refused), len(faulty))
        real, seconds = measured(
            "import réel", lambda: run_import(streams(files), apply=True, today=TODAY)
        )
        created = sum(f.created + f.updated for f in real.files)
        print(f"  {created} lignes créées, {created / seconds:.0f} lignes/s")
        again, _s = measured(
            "deuxième import (rien à créer)",
            lambda: run_import(streams(files), apply=True, today=TODAY),
        )
        assert sum(f.created + f.updated for f in again.files) == 0
        if args.big_children:  # 0: skip the memory measurement
            empty()
            big_households = args.big_children * 4 // 7
            big, _faulty = generate(big_households, children=args.big_children, today=TODAY)
            children = big["enfants"][1].count(b"\n") - 1
            print(
                f"fichier de {children} enfants ({len(big['enfants'][1]) / 2**20:.1f} Mo), "
                f"{big_households} foyers"
            )
            measured(
                f"essai à blanc, {children} enfants (mémoire)",
                lambda: run_import(streams(big), today=TODAY),
                memory=True,
            )
            empty()
            measured(
                f"import réel, {children} enfants (mémoire)",
                lambda: run_import(streams(big), apply=True, today=TODAY),
                memory=True,
            )
            empty()
    print(f"charge après : {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
