"""Fast town creation: replay a DDL script taken from a migrated template schema.

Running every migration for a new town costs 0.3-0.5 s and grows with the apps
(Django renders the project state, then runs each operation). Here one schema,
the template, is migrated the normal way; its catalog is turned into a script
(tables, identity columns, constraints, indexes, comments, sequence positions,
plus the rows migrations and `post_migrate` wrote: django_migrations, content
types, permissions). A new town is `CREATE SCHEMA` + that script in one round
trip, inside the caller's transaction (onboarding stays all-or-nothing).

The template is keyed by the code's migration state (every migration in the
graph and the bytes of its file) and named after it (`_town_template_<key>`):
code with other migrations finds no template of its own and creates the town by
migrations instead (`create_town_schema` falls back, then builds the template
after commit). During a rolling deploy, old and new processes each use their
own template; `manage.py migrate_towns` builds the new one and drops the others.

pg_dump is not a Python dependency, so the script is generated from the
catalog here. Before a template is marked usable, its script is replayed into a
scratch schema and both catalogs are compared (`describe_schema`): an object
this generator does not know (a view, a function, a trigger...) makes the
template unusable (towns are created by migrations) instead of giving towns a
wrong schema. docs/decisions/0600-town-template-and-migrate-towns.md
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.models import TenantMixin
from django_tenants.postgresql_backend.base import _check_schema_name
from django_tenants.signals import post_schema_sync
from django_tenants.utils import schema_exists

from tenants import pool  # pool imports this module back (attributes read at call time)
from tenants.migrations_runner import code_migrations

log = logging.getLogger(__name__)

# Town slugs start with a letter: no town schema can start with "_".
TEMPLATE_PREFIX = "_town_template_"
SCRATCH_SCHEMA = "_town_template_check"
# Bump when the generator changes: older templates then count as stale.
GENERATOR_VERSION = "1"
_COMMENT_PREFIX = "guichet-town-template"  # COMMENT ON SCHEMA: "<prefix> <key> ok|unusable [why]"
_LOCK_KEY = 0x6775696368657401  # pg_advisory_xact_lock key serialising template builds

# (database, state key) -> script, or None when the template is unusable.
_scripts: dict[tuple[str, str], Script | None] = {}
_keys: dict[tuple, str] = {}
_lock = threading.Lock()


class TemplateUnsupported(Exception):
    """The template holds an object the generator cannot reproduce."""


@dataclass(frozen=True)
class Script:
    key: str
    sql: str  # runs with search_path set to the new schema only
    statements: int
    seconds: float  # time taken to generate it


# --- The migration state a template is keyed by ------------------------------


def state_key() -> str:
    """Digest of the code's migration graph: every (app, migration) and its file's bytes."""
    cache_key = (
        tuple(settings.INSTALLED_APPS),
        tuple(sorted((getattr(settings, "MIGRATION_MODULES", None) or {}).items())),
    )
    key = _keys.get(cache_key)
    if key is None:
        digest = hashlib.sha256(f"generator={GENERATOR_VERSION}\n".encode())
        for app, name in sorted(code_migrations().nodes):
            digest.update(f"{app}.{name}\n".encode())
            digest.update(_migration_file_digest(app, name).encode())
        key = _keys[cache_key] = digest.hexdigest()[:32]
    return key


def template_schema(key: str | None = None) -> str:
    """The template schema of this code's migration state (or of `key`)."""
    return TEMPLATE_PREFIX + (key or state_key())[:16]


def _migration_file_digest(app: str, name: str) -> str:
    module_name, _ = MigrationLoader.migrations_module(app)

    try:
        path = Path(importlib.import_module(f"{module_name}.{name}").__file__)
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except (ImportError, OSError, TypeError):  # pragma: no cover - compiled-only modules
        return "?"


# --- Creating a town's schema -------------------------------------------------


def save_new_town(commune: TenantMixin, *, using: str = DEFAULT_DB_ALIAS) -> str:
    """Save a NEW Commune row and create its schema; returns how (see create_town_schema).

    Replaces `commune.save()` (where django-tenants would create the schema and
    run every migration). Must run inside the caller's transaction: a failure
    later in that transaction drops the schema with everything else.
    """
    assert commune._state.adding, "save_new_town() is for a town that does not exist yet"
    commune.auto_create_schema = False  # this instance only: we create the schema below
    try:
        commune.save(verbosity=0)
    finally:
        del commune.auto_create_schema
    method = create_town_schema(commune.schema_name, using=using)
    post_schema_sync.send(sender=TenantMixin, tenant=commune.serializable_fields())
    return method


def create_town_schema(schema_name: str, *, using: str = DEFAULT_DB_ALIAS) -> str:
    """Create and fill `schema_name`, from the template when it is fresh.

    Returns "pool" (a prepared schema renamed, tenants/pool.py), "template",
    "migrations", or "existing": as django-tenants does
    (`create_schema(check_if_exists=True)`), a schema that already exists is
    kept as it is (e.g. a town whose public rows were flushed by a live-server
    test, then onboarded again).
    """
    _check_schema_name(schema_name)
    connection = connections[using]
    connection.set_schema_to_public()
    if schema_exists(schema_name, using):
        log.warning("town schema already exists, kept as is", extra={"schema": schema_name})
        return "existing"
    if pool.take(schema_name, using=using):
        return "pool"
    script = template_script(using=using)
    if script is not None:
        try:
            replay(script, schema_name, using=using)  # in a savepoint
            return "template"
        except DatabaseError:
            # The template does not fit this database any more: migrations this
            # time, and a rebuilt template after commit.
            log.exception("town template replay failed", extra={"schema": schema_name})
            with _lock:
                _scripts.pop((connection.settings_dict["NAME"], script.key), None)
            _refresh_after_commit(using, force=True)
    else:
        _refresh_after_commit(using)
    _create_by_migrations(schema_name, using=using)
    return "migrations"


def _create_by_migrations(schema_name: str, *, using: str) -> None:
    """What django-tenants does for a new tenant: CREATE SCHEMA, then migrate it."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {_q(schema_name)}")
    call_command(
        "migrate_schemas",
        tenant=True,
        schema_name=schema_name,
        interactive=False,
        verbosity=0,
        skip_checks=True,
        database=using,
    )
    connection.set_schema_to_public()


def _refresh_after_commit(using: str, *, force: bool = False) -> None:
    def refresh() -> None:
        try:
            refresh_template(force=force, using=using)
        except Exception:  # the town is created; a template failure must not hide that
            log.exception("town template refresh failed")

    transaction.on_commit(refresh, using=using)


def replay(script: Script, schema_name: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """CREATE SCHEMA + the template's script, in the current transaction."""
    _check_schema_name(schema_name)
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {_q(schema_name)}")
        try:
            cursor.execute(f"SET search_path TO {_q(schema_name)}")
            # No parameters: psycopg sends it as one multi-statement query.
            cursor.execute(script.sql)
        finally:
            _reset_search_path(connection, cursor)


# --- The template itself --------------------------------------------------


@dataclass(frozen=True)
class TemplateState:
    status: str  # "fresh", "missing", "unusable"
    key: str
    detail: str = ""


def template_state(*, using: str = DEFAULT_DB_ALIAS) -> TemplateState:
    """State of the template of this code's migration state."""
    key = state_key()
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
            [template_schema(key)],
        )
        row = cursor.fetchone()
    parts = ((row[0] or "") if row else "").split(" ", 3)
    if row is None or len(parts) < 3 or parts[:2] != [_COMMENT_PREFIX, key]:
        return TemplateState("missing", key)  # absent, or its build was interrupted
    if parts[2] != "ok":
        return TemplateState("unusable", key, parts[3] if len(parts) > 3 else "")
    return TemplateState("fresh", key)


def template_script(*, using: str = DEFAULT_DB_ALIAS) -> Script | None:
    """The fresh template's script (generated once per process), or None."""
    key = state_key()
    cache_key = (connections[using].settings_dict["NAME"], key)
    with _lock:
        if cache_key in _scripts:
            return _scripts[cache_key]
    if template_state(using=using).status != "fresh":
        return None  # not cached: a build by another process is picked up next time
    try:
        script = generate_script(template_schema(key), key=key, using=using)
    except TemplateUnsupported as exc:
        log.warning("town template unusable: %s", exc)
        script = None
    except DatabaseError:  # transient (its savepoint is rolled back): migrations this time
        log.exception("town template could not be read")
        return None
    with _lock:
        _scripts[cache_key] = script
    return script


def refresh_template(
    *, force: bool = False, prune: bool = False, using: str = DEFAULT_DB_ALIAS
) -> TemplateState:
    """Build this code's template by migrations unless it is fresh; verify its script.

    prune=True also drops the templates of other migration states (the deploy
    step does it once the towns are migrated). Runs in its own transaction (a
    savepoint if the caller has one) under an advisory lock, so concurrent
    builds wait for each other and then find the template built.
    """
    connection = connections[using]
    key = state_key()
    schema = template_schema(key)
    started = time.perf_counter()
    with transaction.atomic(using=using):
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            if prune:
                cursor.execute(
                    "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) "
                    "AND nspname NOT IN (%s, %s)",
                    [TEMPLATE_PREFIX, schema, SCRATCH_SCHEMA],
                )
                for (other,) in cursor.fetchall():
                    cursor.execute(f"DROP SCHEMA {_q(other)} CASCADE")
        current = template_state(using=using)
        if current.status == "fresh" and not force:
            return current
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {_q(schema)} CASCADE")
            cursor.execute(f"DROP SCHEMA IF EXISTS {_q(SCRATCH_SCHEMA)} CASCADE")
        _create_by_migrations(schema, using=using)
        try:
            script = generate_script(schema, key=key, using=using)
            verify(script, schema, using=using)
            verdict, detail = "ok", ""
        except (TemplateUnsupported, DatabaseError) as exc:
            script, verdict, detail = None, "unusable", str(exc).splitlines()[0][:300]
            log.warning("town template unusable: %s", exc)
        comment = f"{_COMMENT_PREFIX} {key} {verdict} {detail}".strip()
        with connection.cursor() as cursor:
            cursor.execute(f"COMMENT ON SCHEMA {_q(schema)} IS %s", [comment])
    with _lock:
        _scripts[(connection.settings_dict["NAME"], key)] = script
    log.info(
        "town template built",
        extra={"status": verdict, "seconds": round(time.perf_counter() - started, 3)},
    )
    return TemplateState("fresh" if script else "unusable", key, detail)


def verify(script: Script, template: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Replay into a scratch schema and compare its catalog with the template's."""
    with transaction.atomic(using=using):
        replay(script, SCRATCH_SCHEMA, using=using)
        expected = describe_schema(template, using=using)
        got = describe_schema(SCRATCH_SCHEMA, using=using)
        with connections[using].cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {_q(SCRATCH_SCHEMA)} CASCADE")
    if expected != got:
        diff = sorted(set(expected) ^ set(got))[:5]
        raise TemplateUnsupported(f"le script ne reproduit pas le modèle : {diff}")


# --- Catalog -> script --------------------------------------------------------

# Objects of other catalogs that live in a schema (functions, types, operators,
# collations, text search, extended statistics, extensions...): unsupported.
_FOREIGN_OBJECTS = """
SELECT d.classid::regclass::text, count(*)
FROM pg_depend d
WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = %(ns)s
  AND d.classid <> 'pg_class'::regclass
  AND NOT (d.classid = 'pg_type'::regclass AND EXISTS (
        SELECT 1 FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid
        WHERE t.oid = d.objid AND c.relkind IN ('r', 'S')))
GROUP BY 1
"""

_RELATIONS = """
SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.reloptions, c.relrowsecurity,
       obj_description(c.oid, 'pg_class')
FROM pg_class c
WHERE c.relnamespace = %(ns)s
ORDER BY c.oid
"""

_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
       CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(co.collname) END,
       col_description(a.attrelid, a.attnum)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE c.relnamespace = %(ns)s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_SEQUENCES = """
SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
       s.seqmax, s.seqcache, s.seqcycle, dep.deptype, owner.relname, att.attname
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
LEFT JOIN pg_depend dep ON dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
     AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')
LEFT JOIN pg_class owner ON owner.oid = dep.refobjid
LEFT JOIN pg_attribute att ON att.attrelid = dep.refobjid AND att.attnum = dep.refobjsubid
WHERE c.relnamespace = %(ns)s
ORDER BY c.oid
"""

_CONSTRAINTS = """
SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid),
       obj_description(k.oid, 'pg_constraint')
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relnamespace = %(ns)s AND k.contype <> 'n'
ORDER BY k.contype = 'f', c.oid, k.oid
"""

_INDEXES = """
SELECT ic.relname, pg_get_indexdef(i.indexrelid), i.indisclustered, tc.relname,
       obj_description(i.indexrelid, 'pg_class')
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
WHERE tc.relnamespace = %(ns)s
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                  AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
ORDER BY i.indexrelid
"""

_TRIGGERS_RULES_POLICIES = """
SELECT (SELECT count(*) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
        WHERE c.relnamespace = %(ns)s AND NOT g.tgisinternal),
       (SELECT count(*) FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
        WHERE c.relnamespace = %(ns)s),
       (SELECT count(*) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
        WHERE c.relnamespace = %(ns)s),
       (SELECT count(*) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
        WHERE c.relnamespace = %(ns)s)
"""


def generate_script(schema: str, *, key: str = "", using: str = DEFAULT_DB_ALIAS) -> Script:
    """Read `schema`'s catalog and rows; return the SQL that rebuilds it elsewhere."""
    started = time.perf_counter()
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        try:
            # Expressions (defaults, CHECK, index columns) are printed relative to
            # the search_path: with only the template on it, its own objects come
            # out unqualified and objects elsewhere (public.*) qualified.
            cursor.execute(f"SET search_path TO {_q(schema)}")
            statements = _generate(cursor, schema)
        finally:
            _reset_search_path(connection, cursor)
    sql = ";\n".join(statements) + ";\n" if statements else ""
    return Script(key, sql, len(statements), time.perf_counter() - started)


def _generate(cursor, schema: str) -> list[str]:
    """The script's statements, in replay order: sequences, tables (with their
    comments), sequence ownerships, constraints other than foreign keys,
    indexes, the rows, the sequences' positions, and the foreign keys last
    (every referenced row is in by then). Each step below is one function."""
    p, quoted_schema = _namespace(cursor, schema)
    _refuse_unsupported_objects(cursor, p)
    cursor.execute(_RELATIONS, p)
    tables = _tables(cursor.fetchall())
    cursor.execute(_COLUMNS, p)
    columns = _columns_by_table(cursor.fetchall())
    cursor.execute(_SEQUENCES, p)
    sequences = cursor.fetchall()
    identity_options, standalone = _split_sequences(sequences)

    out = [f"CREATE SEQUENCE {_q(seq)} {options}" for seq, options, _owner, _col in standalone]
    table_columns: dict[str, list[str]] = {}
    for oid, name, persistence, options, comment in tables:
        statements, table_columns[name] = _create_table(
            name, persistence, options, comment, columns.get(oid, []), identity_options
        )
        out.extend(statements)
    out.extend(_sequence_ownerships(standalone))
    cursor.execute(_CONSTRAINTS, p)
    constraints, foreign_keys = _constraints(cursor.fetchall())
    out.extend(constraints)
    cursor.execute(_INDEXES, p)
    out.extend(_indexes(cursor.fetchall(), quoted_schema))
    out.extend(_row_copies(cursor, [name for _oid, name, *_ in tables], table_columns))
    out.extend(_sequence_positions(cursor, [row[0] for row in sequences]))
    out.extend(foreign_keys)  # last: the rows are in, every referenced key exists
    _refuse_self_references(out, quoted_schema)
    return out


def _namespace(cursor, schema: str) -> tuple[dict, str]:
    """The catalog queries' parameters ({"ns": the schema's oid}) and the
    schema's name as PostgreSQL prints it in definitions."""
    cursor.execute(
        "SELECT oid, quote_ident(nspname) FROM pg_namespace WHERE nspname = %s", [schema]
    )
    row = cursor.fetchone()
    if row is None:
        raise TemplateUnsupported(f"schéma {schema} absent")
    return {"ns": row[0]}, row[1]


def _refuse_unsupported_objects(cursor, p: dict) -> None:
    """Functions, types, views... and triggers, rules, policies, inheritance:
    the generator does not copy them, so their presence makes the template
    unusable (towns are then built by migrations), never silently wrong."""
    cursor.execute(_FOREIGN_OBJECTS, p)
    foreign = cursor.fetchall()
    if foreign:
        raise TemplateUnsupported(f"objets non gérés dans le modèle : {foreign}")
    cursor.execute(_TRIGGERS_RULES_POLICIES, p)
    triggers, rules, policies, inherits = cursor.fetchone()
    if triggers or rules or policies or inherits:
        raise TemplateUnsupported(
            f"déclencheurs={triggers} règles={rules} politiques={policies} héritage={inherits}"
        )


def _tables(relations) -> list[tuple]:
    """The tables (oid, name, persistence, options, comment) among the schema's
    relations; only tables, indexes and sequences are supported, without
    row-level security."""
    tables = []
    for oid, name, kind, persistence, options, rowsecurity, comment in relations:
        if kind not in ("r", "i", "S"):
            raise TemplateUnsupported(f"relation {name} de type {kind!r} non gérée")
        if rowsecurity:
            raise TemplateUnsupported(f"sécurité par ligne sur {name}")
        if kind == "r":
            tables.append((oid, name, persistence, options, comment))
    return tables


def _columns_by_table(rows) -> dict[int, list]:
    """Columns grouped by their table's oid, in the catalog's order."""
    columns: dict[int, list] = {}
    for attrelid, *rest in rows:
        columns.setdefault(attrelid, []).append(rest)
    return columns


def _split_sequences(sequences) -> tuple[dict, list]:
    """(identity options by (table, column), standalone sequences). An
    identity's sequence is declared with its column (it takes the column's
    type); a standalone one is created first, and owned by its column (serial,
    deptype "a") once the tables exist."""
    identity_options = {}
    standalone = []
    for seq, typ, start, inc, smin, smax, cache, cycle, deptype, owner, column in sequences:
        options = (
            f"START WITH {start} INCREMENT BY {inc} MINVALUE {smin} MAXVALUE {smax} "
            f"CACHE {cache}{' CYCLE' if cycle else ''}"
        )
        if deptype == "i":
            identity_options[(owner, column)] = f"SEQUENCE NAME {_q(seq)} {options}"
        else:
            standalone.append(
                (seq, f"AS {typ} {options}", owner if deptype == "a" else None, column)
            )
    return identity_options, standalone


def _column_definition(table: str, column: list, identity_options: dict) -> str:
    col, typ, notnull, default, identity, generated, collation, _comment = column
    d = f"{_q(col)} {typ}"
    if collation:
        d += f" COLLATE {collation}"
    if generated == "s":
        d += f" GENERATED ALWAYS AS ({default}) STORED"
    elif identity:
        how = "ALWAYS" if identity == "a" else "BY DEFAULT"
        d += f" GENERATED {how} AS IDENTITY ({identity_options[(table, col)]})"
    elif default is not None:
        d += f" DEFAULT {default}"
    if notnull:
        d += " NOT NULL"
    return d


def _create_table(
    name: str, persistence: str, options, comment, columns: list, identity_options: dict
) -> tuple[list[str], list[str]]:
    """(CREATE TABLE and its comments, the columns a row copy inserts: all but
    the generated ones)."""
    defs = [_column_definition(name, column, identity_options) for column in columns]
    unlogged = "UNLOGGED " if persistence == "u" else ""
    with_options = f" WITH ({', '.join(options)})" if options else ""
    out = [f"CREATE {unlogged}TABLE {_q(name)} ({', '.join(defs)}){with_options}"]
    if comment is not None:
        out.append(f"COMMENT ON TABLE {_q(name)} IS {_lit(comment)}")
    for col, *_rest, col_comment in columns:
        if col_comment is not None:
            out.append(f"COMMENT ON COLUMN {_q(name)}.{_q(col)} IS {_lit(col_comment)}")
    insertable = [_q(column[0]) for column in columns if column[5] != "s"]
    return out, insertable


def _sequence_ownerships(standalone: list) -> list[str]:
    return [
        f"ALTER SEQUENCE {_q(seq)} OWNED BY {_q(owner)}.{_q(column)}"
        for seq, _options, owner, column in standalone
        if owner
    ]


def _constraints(rows) -> tuple[list[str], list[str]]:
    """(the constraints other than foreign keys, the foreign keys), each with
    its comment; constraint triggers are not supported."""
    others: list[str] = []
    foreign_keys: list[str] = []
    for table, name, kind, definition, comment in rows:
        if kind == "t":
            raise TemplateUnsupported(f"contrainte-déclencheur {name}")
        target = foreign_keys if kind == "f" else others
        target.append(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
        if comment is not None:
            target.append(f"COMMENT ON CONSTRAINT {_q(name)} ON {_q(table)} IS {_lit(comment)}")
    return others, foreign_keys


def _indexes(rows, quoted_schema: str) -> list[str]:
    """CREATE INDEX statements (pg_get_indexdef always qualifies the table:
    the template's name is dropped), CLUSTER ON and comments."""
    out = []
    for name, definition, clustered, table, comment in rows:
        for prefix in (" ON ", " ON ONLY "):
            definition = definition.replace(f"{prefix}{quoted_schema}.", prefix, 1)
        out.append(definition)
        if clustered:
            out.append(f"ALTER TABLE {_q(table)} CLUSTER ON {_q(name)}")
        if comment is not None:
            out.append(f"COMMENT ON INDEX {_q(name)} IS {_lit(comment)}")
    return out


def _row_copies(cursor, tables: list[str], table_columns: dict[str, list[str]]) -> list[str]:
    """Rows written by migrations and post_migrate (django_migrations, content
    types, permissions, data migrations), as JSON decoded by PostgreSQL itself;
    a town's migrations are dated when it is created, not when the template was."""
    out = []
    for name in tables:
        cursor.execute(f"SELECT json_agg(t)::text FROM {_q(name)} t")
        rows = cursor.fetchone()[0]
        if rows is None:
            continue
        cols = ", ".join(table_columns[name])
        out.append(
            f"INSERT INTO {_q(name)} ({cols}) OVERRIDING SYSTEM VALUE SELECT {cols} "
            f"FROM json_populate_recordset(NULL::{_q(name)}, {_lit(rows)})"
        )
        if name == "django_migrations":
            out.append("UPDATE django_migrations SET applied = now()")
    return out


def _sequence_positions(cursor, sequences: list[str]) -> list[str]:
    """setval for each sequence already used, so new rows follow the copied ones."""
    out = []
    for seq in sequences:
        cursor.execute(f"SELECT last_value, is_called FROM {_q(seq)}")
        last_value, is_called = cursor.fetchone()
        if is_called:
            out.append(f"SELECT setval({_lit(_q(seq))}, {last_value}, true)")
    return out


def _refuse_self_references(statements: list[str], quoted_schema: str) -> None:
    """Nothing may point back at the template (it would alter the template,
    not the town); copied rows may mention its name as data."""
    leaks = [s for s in statements if not s.startswith("INSERT ") and f"{quoted_schema}." in s]
    if leaks:
        raise TemplateUnsupported(f"le script désigne le modèle lui-même : {leaks[0][:200]}")


# --- Catalog description (to compare two schemas) ---------------------------


def describe_schema(schema: str, *, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """A sorted, schema-name-free description of a schema's objects and rows.

    Two schemas with equal descriptions have the same tables, columns, types,
    defaults, identities, constraints, indexes, comments, sequence positions and
    rows (django_migrations.applied aside). Used to verify a template's script
    and, in tests, to compare a town made by the template with one made by
    migrations.
    """
    connection = connections[using]
    items: list[str] = []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        try:
            cursor.execute(f"SET search_path TO {_q(schema)}")
            cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])
            p = {"ns": cursor.fetchone()[0]}
            cursor.execute(_RELATIONS, p)
            rels = cursor.fetchall()
            names = {oid: name for oid, name, *_ in rels}
            for _oid, name, kind, persistence, options, rowsecurity, comment in rels:
                items.append(f"rel {name} {kind} {persistence} {options} {rowsecurity} {comment!r}")
            cursor.execute(_COLUMNS, p)
            position: dict[int, int] = {}
            for attrelid, *rest in cursor.fetchall():
                position[attrelid] = position.get(attrelid, 0) + 1
                items.append(f"col {names[attrelid]} #{position[attrelid]} {rest!r}")
            cursor.execute(_SEQUENCES, p)
            for row in cursor.fetchall():
                cursor.execute(f"SELECT last_value, is_called FROM {_q(row[0])}")
                items.append(f"seq {row!r} {cursor.fetchone()!r}")
            cursor.execute(_CONSTRAINTS, p)
            items += [f"con {row!r}" for row in cursor.fetchall()]
            cursor.execute("SELECT quote_ident(%s)", [schema])
            quoted = cursor.fetchone()[0]
            cursor.execute(_INDEXES, p)
            for name, definition, *rest in cursor.fetchall():
                definition = definition.replace(f" ON {quoted}.", " ON ", 1)
                items.append(f"idx {name} {_comparable_index(definition)} {rest!r}")
            cursor.execute(_TRIGGERS_RULES_POLICIES, p)
            items.append(f"other {cursor.fetchone()!r}")
            cursor.execute(_FOREIGN_OBJECTS, p)
            items.append(f"foreign {sorted(cursor.fetchall())!r}")
            for _oid, name, kind, *_ in rels:
                if kind != "r":
                    continue
                drop = " - 'applied'" if name == "django_migrations" else ""
                cursor.execute(
                    f"SELECT count(*), md5(string_agg(r, E'\\n' ORDER BY r)) FROM "
                    f"(SELECT (to_jsonb(t){drop})::text AS r FROM {_q(name)} t) x"
                )
                items.append(f"rows {name} {cursor.fetchone()!r}")
        finally:
            _reset_search_path(connection, cursor)
    return sorted(items)


# --- helpers -------------------------------------------------------------


def _comparable_index(definition: str) -> str:
    """An index definition with type casts, parentheses and spaces removed.

    PostgreSQL does not print back a replayed partial-index predicate the way it
    printed the original: Django's `status IN ('a', 'b')` is stored as
    `(status)::text = ANY ((ARRAY['a'::varchar, ...])::text[])`, and replaying that
    text stores `ARRAY[('a'::varchar)::text, ...]`. Same index, other text; the
    varchar/text casts carry no meaning here, so they are left out of the comparison.
    """
    without_casts = re.sub(r"::(?:[a-z_]+(?: [a-z_]+)*)(?:\[\])?", "", definition)
    return re.sub(r"[()\s]", "", without_casts)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    # standard_conforming_strings is on (the default since PostgreSQL 9.1).
    return "'" + value.replace("'", "''") + "'"


def _reset_search_path(connection, cursor) -> None:
    """Put back the search_path django-tenants believes active (even in an aborted transaction)."""
    connection.search_path_set_schemas = None
    connection._handle_search_path(cursor)
