"""A pool of prepared town schemas: onboarding renames one instead of building one.

Replaying the template's script (tenants/template.py) still creates ~400
relations per town: ~350 ms of PostgreSQL CPU. A pool schema is that replay done
ahead of time, by the periodic task `tenants.tasks.fill_town_pool` (beat, every
minute) and by `migrate_towns` after its template refresh. Onboarding then does
`ALTER SCHEMA <pool schema> RENAME TO <town>`, a catalog update of a few ms,
inside its own transaction (a failed onboarding rolls the rename back: the
schema returns to the pool).

- Never stale: a pool schema is named after the code's migration state
  (`_town_pool_<state key>_<n>`); other code finds none of its own and creates
  the town from the template, and `fill_pool` drops the pools of other states.
- Safe under concurrent onboarding: each taker holds a transaction-level
  advisory lock on the schema it claims and renames it in a savepoint; a schema
  another transaction renamed meanwhile is skipped (the savepoint is rolled back).
- Empty pool: the template (or migrations) as before; nothing waits.

docs/decisions/0600-town-template-and-migrate-towns.md, docs/benchmarks.md
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django_tenants.postgresql_backend.base import _check_schema_name

from tenants import template

log = logging.getLogger(__name__)

POOL_PREFIX = "_town_pool_"
_FILL_LOCK = 0x6775696368657402  # pg_advisory_lock key: one filler at a time


def pool_prefix(key: str | None = None) -> str:
    return f"{POOL_PREFIX}{(key or template.state_key())[:16]}_"


def pool_size() -> int:
    return int(getattr(settings, "TOWN_POOL_SIZE", 5))


def available(*, using=DEFAULT_DB_ALIAS) -> list[str]:
    """The pool schemas of this code's migration state, oldest first."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) ORDER BY oid",
            [pool_prefix()],
        )
        return [row[0] for row in cursor.fetchall()]


def take(schema_name: str, *, using=DEFAULT_DB_ALIAS) -> bool:
    """Rename a prepared schema to `schema_name` in the caller's transaction.
    Returns False when the pool is empty (the caller builds the schema)."""
    _check_schema_name(schema_name)
    connection = connections[using]
    for candidate in available(using=using):
        try:
            with transaction.atomic(using=using), connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [candidate])
                if not cursor.fetchone()[0]:
                    continue  # another onboarding is taking it
                cursor.execute(
                    f"ALTER SCHEMA {template._q(candidate)} RENAME TO {template._q(schema_name)}"
                )
                # Migrations count as applied when the town is created (as by the template).
                cursor.execute(
                    f"UPDATE {template._q(schema_name)}.django_migrations SET applied = now()"
                )
            return True
        except DatabaseError:  # renamed by a transaction that committed meanwhile
            continue
    return False


def fill_pool(size: int | None = None, *, using=DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Top the pool up to `size` schemas of this code's migration state and drop
    the pools of other states. One filler at a time (advisory lock); each schema
    in its own short transaction. Nothing when the template is not fresh."""
    size = pool_size() if size is None else size
    connection = connections[using]
    connection.set_schema_to_public()
    counts = {"created": 0, "dropped": 0, "available": 0}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_FILL_LOCK])
        if not cursor.fetchone()[0]:
            return counts  # another process is filling it
    try:
        mine = pool_prefix()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) "
                "AND NOT starts_with(nspname, %s)",
                [POOL_PREFIX, mine],
            )
            for (stale,) in cursor.fetchall():
                with transaction.atomic(using=using):
                    cursor.execute(f"DROP SCHEMA IF EXISTS {template._q(stale)} CASCADE")
                counts["dropped"] += 1
        script = template.template_script(using=using)
        present = available(using=using)
        if script is not None:
            numbers = {int(name.rsplit("_", 1)[1]) for name in present}
            n = max(numbers, default=0)
            while len(present) < size:
                n += 1
                name = f"{mine}{n}"
                with transaction.atomic(using=using):
                    template.replay(script, name, using=using)
                present.append(name)
                counts["created"] += 1
        # More than wanted (a smaller size): the newest go.
        for extra in present[size:]:
            with transaction.atomic(using=using), connection.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA IF EXISTS {template._q(extra)} CASCADE")
            counts["dropped"] += 1
        counts["available"] = min(len(present), size)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_FILL_LOCK])
    if counts["created"] or counts["dropped"]:
        log.info("town pool filled", extra=counts)
    return counts
