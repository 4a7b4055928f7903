"""Static and configuration checks backing docs/security.md: no SQL built from
strings outside a reviewed allow-list, Sentry never receives personal data."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.hardening.enumerate import ROOT

SOURCES = ("platform", "modules", "tenants")
# Raw SQL in our code, each reviewed: constants, or settings values (no user input).
REVIEWED_RAW_SQL = {
    # The console's per-town figures: the only interpolated names are schema
    # names from Commune rows, which django-tenants only accepts as identifiers
    # (letters, digits, underscore), never user input.
    ("tenants/console.py", "cursor.execute("),
    # test helper only (not served)
    ("platform/documents/testing.py", "c.execute("),
    # Invoice lines written with COPY: constant table and column names, rows as data.
    ("modules/billing/services.py", "with cursor.cursor.copy("),
    ("platform/core/views.py", 'cursor.execute("SELECT 1")'),
    ("platform/core/health.py", 'cursor.execute("SELECT 1")'),
    ("tenants/management/commands/rundemo.py", 'c.execute(f\'CREATE DATABASE "{d["NAME"]}"\')'),
    # rundemo's guard: constant catalogue reads (is there a town table, which towns).
    (
        "tenants/management/commands/rundemo.py",
        "cursor.execute(\"SELECT to_regclass('public.tenants_commune')\")",
    ),
    (
        "tenants/management/commands/rundemo.py",
        "cursor.execute(\"SELECT slug FROM public.tenants_commune WHERE schema_name <> 'public'\")",
    ),
    # The deploy check of payment secrets: a constant catalogue query, then one
    # UNION over town schemas whose names come from Commune rows (identifiers
    # only, quoted); the slugs are parameters.
    ("modules/billing/checks.py", "cursor.execute("),
    ("modules/billing/checks.py", "cursor.execute(sql, [slug for _, slug in chunk])"),
    # The vault's wrapped family keys, read and written in the town's schema by
    # name (the schema of the town being served or rotated, an identifier);
    # household id and key as parameters.
    ("platform/documents/vault.py", "cursor.execute("),
    # The booking path's conditional UPDATE of places and bulk INSERT, and
    # book_days' read of the days and the child's booked days (issue #19):
    # table and column names from the models through quote_name, every value a
    # parameter (ids, counts and days as arrays).
    ("platform/booking/services.py", "cursor.execute("),
    # The waiting room's Redis pipelines (not SQL; the pattern catches `execute(`).
    ("platform/booking/waiting_room.py", "rank, score = pipe.execute()"),
    ("platform/booking/waiting_room.py", "return pipe.execute()"),
    # Whole-town export: catalogue reads with the schema as a parameter, then COPY
    # of each table whose name comes from information_schema (never user input).
    ("tenants/town_export.py", "cursor.execute("),
    ("tenants/town_export.py", "with cursor.cursor.copy("),
    (
        "tenants/town_export.py",
        "cursor.execute(f'SELECT count(*) FROM \"{table}\"')  # noqa: S608 (name from information_schema)",  # noqa: E501
    ),
}
# Whole files whose job is catalog/DDL work on schema and table names (never
# user input): every identifier goes through `_q()` (quote_ident rules) and
# every value through parameters or `_lit()`. Reviewed as a whole.
REVIEWED_FILES = {
    "tenants/template.py": "town template: catalog -> DDL script, replay, verify",
    "tenants/migrations_runner.py": "migrate_towns: bulk read of django_migrations per schema",
    "tenants/pool.py": "prepared schemas: advisory locks, rename, drop stale ones (names via _q)",
    "tenants/backup.py": "backup/restore of one town: snapshot, schema swap, public rows (_q)",
}
_RAW = re.compile(r"\.raw\(|RawSQL\(|\.extra\(|\bexecute\(|executemany\(|cursor\.copy\(")


def test_no_raw_sql_outside_the_reviewed_list():
    """The ORM parameterises every query; raw SQL is the only place an
    injection could come from, so each use is listed and reviewed."""
    found = set()
    for top in SOURCES:
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if "/tests/" in rel or "/migrations/" in rel or rel in REVIEWED_FILES:
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                if _RAW.search(line):
                    found.add((rel, line.strip()))
    assert found == REVIEWED_RAW_SQL


def test_sentry_never_sends_personal_data():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings.test",
            "SENTRY_DSN": "https://public@sentry.invalid/1",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
        }
    )
    code = (
        "import django; django.setup(); import sentry_sdk;"
        "print('PII=' + str(sentry_sdk.get_client().options['send_default_pii']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert "PII=False" in out.stdout, out.stdout + out.stderr


def test_every_test_named_in_docs_security_exists():
    """docs/security.md stays true: each `file::test` (or `::test`, continuing the
    file named before it) names a test that exists."""
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    missing, named, current = [], 0, None
    for cell in text.split("|"):
        for path, name in re.findall(r"`(?:([\w/.]+\.py))?::(\w+)`", cell):
            current = path or current
            assert current, f"::{name} sans fichier"
            source = (ROOT / current).read_text(encoding="utf-8")
            named += 1
            if not re.search(rf"^def {name}\(", source, re.M):
                missing.append(f"{current}::{name}")
        for path in re.findall(r"`([\w/.]+\.py)`", cell):
            if not (ROOT / path).exists():
                missing.append(path)
    assert named > 40
    assert not missing, missing
