"""Migrating thousands of towns: read every town's state at once, migrate only
the towns that are behind, in parallel, one town's failure never blocking the others.

Why not `migrate_schemas`: for each schema it runs the whole `migrate` command
(system checks, migration loader, autodetector, post_migrate) even when nothing
is to be done (~86 ms per town), and Django's `get_table_list` scans all of
pg_class (238 ms per call at 5,000 schemas): a no-op deploy took 729 s at
5,112 schemas. Here:

1. `read_town_states` asks PostgreSQL, in a few UNION ALL queries (500 schemas
   each: every subquery locks a table until the statement ends, and the lock
   table holds max_locks_per_transaction x max_connections entries), for a
   digest of each town's `django_migrations`; only towns whose digest differs
   from the code's return their rows.
2. Towns whose applied set covers the code's migration graph are skipped
   without touching Django's migration machinery.
3. The rest are migrated by worker processes (fork, one connection each,
   `workers` bounded), in waves: each town in ONE transaction when all its
   pending migrations are atomic (a failed town is left as it was), with a
   lock_timeout so a town locked by live traffic fails fast instead of holding
   a worker. Workers replace django-tenants' table introspection by an indexed
   lookup (pg_depend) and reuse the rendered project state between towns.
docs/decisions/0600-town-template-and-migrate-towns.md
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.apps import apps as global_apps
from django.conf import settings
from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.postgresql.introspection import TableInfo
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ModelState
from django_tenants.postgresql_backend.introspection import DatabaseSchemaIntrospection
from django_tenants.signals import schema_migrated, schema_pre_migration

Key = tuple[str, str]  # (app_label, migration_name)

CHUNK = 500  # schemas per state query (see the module docstring: lock table)


# --- What the code expects -----------------------------------------------


@dataclass(frozen=True)
class CodeMigrations:
    nodes: frozenset[Key]  # every migration of the graph (what a fully migrated town records)
    leaves: tuple[Key, ...]
    replacements: dict[Key, tuple[Key, ...]]  # squashed migration -> what it replaces
    digest: str  # md5 of the sorted "app.name" list, as PostgreSQL computes it

    def unapplied(self, applied: Iterable[Key]) -> list[Key]:
        done = set(applied)
        for squash, replaced in self.replacements.items():
            if all(r in done for r in replaced):
                done.add(squash)
        return sorted(self.nodes - done)


def code_migrations() -> CodeMigrations:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    nodes = frozenset(loader.graph.nodes)
    replacements = {k: tuple(m.replaces) for k, m in loader.replacements.items()}
    return CodeMigrations(
        nodes, tuple(loader.graph.leaf_nodes()), replacements, _digest(f"{a}.{n}" for a, n in nodes)
    )


def _digest(labels: Iterable[str]) -> str:
    return hashlib.md5(",".join(sorted(labels)).encode()).hexdigest()


# --- What the towns have ------------------------------------------------


@dataclass(frozen=True)
class TownState:
    schema: str
    unapplied: tuple[Key, ...]  # empty: up to date
    problem: str = ""  # e.g. the schema does not exist


def read_town_states(
    schemas: list[str], code: CodeMigrations, *, using: str = DEFAULT_DB_ALIAS, chunk: int = CHUNK
) -> dict[str, TownState]:
    """Each town's pending migrations, from a few queries whatever the number of towns."""
    connection = connections[using]
    connection.set_schema_to_public()
    states: dict[str, TownState] = {}
    with connection.cursor() as cursor:
        # Which schemas exist and have a django_migrations table: index lookups only.
        cursor.execute(
            "SELECT n.nspname, "
            "to_regclass(quote_ident(n.nspname) || '.django_migrations') IS NOT NULL "
            "FROM pg_namespace n WHERE n.nspname = ANY(%s)",
            [schemas],
        )
        found = dict(cursor.fetchall())
        with_table = []
        for schema in schemas:
            if schema not in found:
                states[schema] = TownState(schema, tuple(sorted(code.nodes)), "schéma absent")
            elif not found[schema]:
                states[schema] = TownState(schema, tuple(sorted(code.nodes)))
            else:
                with_table.append(schema)
        for start in range(0, len(with_table), chunk):
            part = with_table[start : start + chunk]
            subqueries = [
                # Only towns whose digest differs send their rows back.
                f"SELECT %s::text AS s, CASE WHEN coalesce(md5(string_agg(k, ',' ORDER BY k "
                f"COLLATE \"C\")), '') = %s THEN NULL ELSE coalesce(array_agg(k), '{{}}') END AS a "
                f"FROM (SELECT app || '.' || name AS k FROM {_q(s)}.django_migrations) m"
                for s in part
            ]
            params = [v for s in part for v in (s, code.digest)]
            cursor.execute(
                "SELECT s, a FROM (" + " UNION ALL ".join(subqueries) + ") x WHERE a IS NOT NULL",
                params,
            )
            behind = dict(cursor.fetchall())
            for schema in part:
                labels = behind.get(schema)
                if labels is None:
                    states[schema] = TownState(schema, ())
                else:
                    applied = [tuple(label.split(".", 1)) for label in labels]
                    states[schema] = TownState(schema, tuple(code.unapplied(applied)))
    return states


# --- Migrating one town (in a worker process) --------------------------------


@dataclass
class TownResult:
    schema: str
    status: str  # "migrated", "up-to-date", "failed"
    applied: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    failed_migration: str = ""


class _IndexedIntrospection(DatabaseSchemaIntrospection):
    """django-tenants' introspection, but listing a schema's tables through
    pg_depend's index instead of scanning all of pg_class (the scan costs
    ~0.24 s per call at 5,000 schemas, and migrate calls it per town)."""

    def get_table_list(self, cursor):
        cursor.execute(
            """
            SELECT c.relname,
                   CASE WHEN c.relispartition THEN 'p' WHEN c.relkind IN ('m', 'v') THEN 'v'
                        ELSE 't' END,
                   obj_description(c.oid, 'pg_class')
            FROM pg_catalog.pg_depend d
            JOIN pg_catalog.pg_class c ON c.oid = d.objid
            WHERE d.classid = 'pg_catalog.pg_class'::regclass
              AND d.refclassid = 'pg_catalog.pg_namespace'::regclass
              AND d.refobjid = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %s)
              AND d.deptype = 'n' AND c.relkind IN ('f', 'm', 'p', 'r', 'v')
            """,
            [self.connection.schema_name],
        )
        return [TableInfo(*row) for row in cursor.fetchall()]


# (applied set, graph) -> rendered ProjectState, per process: towns at the same
# state share it (rendering costs more than the migration itself).
_state_cache: dict[tuple[frozenset, frozenset], object] = {}


def migrate_town(
    schema: str,
    *,
    using: str = DEFAULT_DB_ALIAS,
    lock_timeout: str = "30s",
    post_migrate: str = "all",
    verbosity: int = 0,
) -> TownResult:
    """Apply the pending migrations of one town; never raises.

    post_migrate="all" sends it for every app, as `manage.py migrate` does;
    "plan" only for the apps whose migrations ran (faster; a post_migrate
    handler that must run after ANY migration would then be skipped).
    """
    started = time.perf_counter()
    result = TownResult(schema, "failed")
    connection = connections[using]
    if not isinstance(connection.introspection, _IndexedIntrospection):
        connection.introspection = _IndexedIntrospection(connection)
    current: list[str] = []
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()  # a worker's previous town may have broken it
    # Called inside a transaction (workers=1 from a caller's atomic block): a
    # savepoint per town, so one failed town does not abort the caller's transaction.
    savepoint = transaction.atomic(using=using) if connection.in_atomic_block else nullcontext()
    try:
        with savepoint:
            _migrate_town(connection, schema, using, lock_timeout, post_migrate, current, result)
    except Exception as exc:  # reported, never raised: the other towns go on
        result.status = "failed"
        result.error = f"{type(exc).__name__}: {exc}".strip()
        result.failed_migration = current[-1] if current else ""
        if verbosity >= 2:
            result.error += "\n" + traceback.format_exc()
    finally:
        result.seconds = time.perf_counter() - started
        connection.set_schema_to_public()
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        except Exception:  # pragma: no cover - a broken connection is replaced next time
            pass
    return result


def _migrate_town(connection, schema, using, lock_timeout, post_migrate, current, result) -> None:
    schema_pre_migration.send(migrate_town, schema_name=schema)
    # As django-tenants does: create django_migrations in the town (not public) first.
    connection.set_schema(schema, include_public=False)
    with connection.cursor() as cursor:
        # A town locked by live traffic fails fast instead of holding a worker.
        cursor.execute("SELECT set_config('lock_timeout', %s, false)", [lock_timeout])
    executor = MigrationExecutor(connection, _progress(current))
    executor.recorder.ensure_schema()
    connection.set_schema(schema)
    executor.loader.check_consistent_history(connection)
    targets = executor.loader.graph.leaf_nodes()
    plan = executor.migration_plan(targets)
    if not plan:
        result.status = "up-to-date"
        return
    # One transaction per town when every pending migration allows it: a
    # failed town is left exactly as it was.
    atomic = all(m.atomic for m, _ in plan)
    with transaction.atomic(using=using) if atomic else nullcontext():
        _run_plan(executor, connection, targets, plan, post_migrate)
    result.status = "migrated"
    result.applied = [f"{m.app_label}.{m.name}" for m, _ in plan]
    schema_migrated.send(migrate_town, schema_name=schema)


def _progress(current: list[str]) -> Callable:
    def callback(action, migration=None, fake=False):
        if action == "apply_start" and migration is not None:
            current.append(f"{migration.app_label}.{migration.name}")

    return callback


def _run_plan(executor: MigrationExecutor, connection, targets, plan, post_migrate: str) -> None:
    """What `manage.py migrate` does around executor.migrate(): pre/post_migrate
    signals (content types, permissions, renamed models), with the project
    state rendered once per applied-set in this process and cloned per town."""
    applied = (
        frozenset(executor.loader.applied_migrations),
        frozenset(executor.loader.graph.nodes),
    )
    pre_state = _state_cache.get(applied)
    if pre_state is None:
        pre_state = executor._create_project_state(with_applied_migrations=True)
        _ = pre_state.apps  # render once: cloning a rendered state is far cheaper
        if len(_state_cache) > 8:
            _state_cache.clear()
        _state_cache[applied] = pre_state
    emit_pre_migrate_signal(0, False, connection.alias, apps=pre_state.apps, plan=plan)
    post_state = executor.migrate(targets, plan=plan, state=pre_state.clone())
    post_state.clear_delayed_apps_cache()
    post_apps = post_state.apps
    with post_apps.bulk_update():
        model_keys = []
        for model_state in post_apps.real_models:
            model_key = model_state.app_label, model_state.name_lower
            model_keys.append(model_key)
            post_apps.unregister_model(*model_key)
    post_apps.render_multiple(
        [ModelState.from_model(global_apps.get_model(*model)) for model in model_keys]
    )
    if post_migrate == "all":
        emit_post_migrate_signal(0, False, connection.alias, apps=post_apps, plan=plan)
    else:
        # Only the apps whose migrations ran (their content types and
        # permissions): ~3 queries per app saved for every other app.
        labels = {m.app_label for m, _ in plan}
        for app_config in global_apps.get_app_configs():
            if app_config.models_module is not None and app_config.label in labels:
                models.signals.post_migrate.send(
                    sender=app_config,
                    app_config=app_config,
                    verbosity=0,
                    interactive=False,
                    using=connection.alias,
                    apps=post_apps,
                    plan=plan,
                )


# --- Many towns --------------------------------------------------------------


@dataclass
class Report:
    results: list[TownResult] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    not_attempted: list[str] = field(default_factory=list)
    read_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def failed(self) -> list[TownResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def migrated(self) -> list[TownResult]:
        return [r for r in self.results if r.status == "migrated"]


def _worker_init(using: str) -> None:
    # Forked from the parent, whose connections were closed before the fork:
    # this process opens its own connection on first use.
    for conn in connections.all(initialized_only=True):
        conn.connection = None
    connection = connections[using]
    connection.introspection = _IndexedIntrospection(connection)
    # This process only migrates towns: django-tenants may skip the `SET
    # search_path` it otherwise sends before EVERY query (half the round
    # trips); it still sends one whenever the schema changes or after a rollback.
    settings.TENANT_LIMIT_SET_CALLS = True


def _worker_migrate(
    schema: str, using: str, lock_timeout: str, post_migrate: str, verbosity: int
) -> TownResult:
    return migrate_town(
        schema,
        using=using,
        lock_timeout=lock_timeout,
        post_migrate=post_migrate,
        verbosity=verbosity,
    )


def migrate_towns(
    schemas: list[str],
    *,
    workers: int = 2,
    wave_size: int = 200,
    max_failures: int | None = None,
    lock_timeout: str = "30s",
    post_migrate: str = "all",
    using: str = DEFAULT_DB_ALIAS,
    verbosity: int = 0,
    on_result: Callable[[TownResult], None] | None = None,
) -> Report:
    """Migrate every town of `schemas` that is behind the code.

    workers=1 migrates in this process, on this connection (each town in a
    savepoint). workers>1 forks that many processes, each with one connection.
    Towns go in waves of `wave_size`; after a wave with `max_failures` failures
    in total, the remaining towns are not attempted (a broken migration is not
    tried on 5,000 towns). A failed town never stops the others of its wave.
    """
    started = time.perf_counter()
    report = Report()
    code = code_migrations()
    states = read_town_states(schemas, code, using=using)
    report.read_seconds = time.perf_counter() - started
    pending = []
    for schema in schemas:
        state = states[schema]
        if state.problem:
            result = TownResult(schema, "failed", error=state.problem)
            report.results.append(result)
            if on_result:
                on_result(result)
        elif state.unapplied:
            pending.append(schema)
        else:
            report.up_to_date.append(schema)
    if not pending:
        report.seconds = time.perf_counter() - started
        return report

    workers = max(1, min(workers, len(pending)))
    pool = None
    if workers > 1:
        if connections[using].in_atomic_block:
            raise RuntimeError(
                "migrate_towns(workers>1) needs committed towns: call it outside a transaction"
            )
        connections.close_all()  # never share a socket with forked children
        pool = _new_pool(workers, using)
    try:
        for start in range(0, len(pending), wave_size):
            if max_failures is not None and len(report.failed) >= max_failures:
                report.not_attempted = pending[start:]
                break
            wave = pending[start : start + wave_size]
            if pool is None:
                results = (
                    migrate_town(
                        s,
                        using=using,
                        lock_timeout=lock_timeout,
                        post_migrate=post_migrate,
                        verbosity=verbosity,
                    )
                    for s in wave
                )
            else:
                connections.close_all()  # a worker forked later must not inherit a socket
                results, pool = _run_wave(
                    pool, wave, workers, using, (lock_timeout, post_migrate, verbosity)
                )
            for result in results:
                report.results.append(result)
                if on_result:
                    on_result(result)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    report.seconds = time.perf_counter() - started
    return report


def _new_pool(workers: int, using: str) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_init,
        initargs=(using,),
    )


def _run_wave(pool, wave, workers, using, options):
    futures = {pool.submit(_worker_migrate, s, using, *options): s for s in wave}
    results = []
    broken = False
    for future in as_completed(futures):
        schema = futures[future]
        try:
            results.append(future.result())
        except BrokenProcessPool:
            broken = True
            results.append(TownResult(schema, "failed", error="processus de migration interrompu"))
        except Exception as exc:  # pragma: no cover - migrate_town catches its own errors
            results.append(TownResult(schema, "failed", error=f"{type(exc).__name__}: {exc}"))
    if broken:  # a worker died (killed, out of memory): start a fresh pool for the next wave
        pool.shutdown(wait=False, cancel_futures=True)
        pool = _new_pool(workers, using)
    return results, pool


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
