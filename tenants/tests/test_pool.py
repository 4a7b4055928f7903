"""The pool of prepared town schemas (tenants/pool.py): onboarding renames one;
the renamed schema is the template's, object for object and row for row; a
schema of another migration state is never handed out and is dropped when the
pool is filled; two onboardings at once never get the same schema."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from tenants import pool, template
from tenants.template import create_town_schema, describe_schema, refresh_template
from tests.support import in_own_connection

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_scripts():
    yield
    template._scripts.clear()


@pytest.fixture
def fresh_template(db):
    state = refresh_template()
    assert state.status == "fresh", state
    return state


def _schemas(prefix: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) ORDER BY oid",
            [prefix],
        )
        return [r[0] for r in cursor.fetchall()]


def test_a_town_takes_a_prepared_schema_equal_to_the_templates(fresh_template):
    assert pool.fill_pool(3) == {"created": 3, "dropped": 0, "available": 3}
    assert len(pool.available()) == 3
    assert create_town_schema("zz_from_pool") == "pool"
    assert len(pool.available()) == 2
    assert create_town_schema("zz_from_template_for_pool") in ("pool", "template")
    template._create_by_migrations("zz_by_migrations_for_pool", using="default")
    assert describe_schema("zz_from_pool") == describe_schema("zz_by_migrations_for_pool")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM zz_from_pool.django_migrations "
            "WHERE applied > now() - interval '1 minute'"
        )
        assert cursor.fetchone()[0] > 0
    # Filling again tops up; a smaller size drops the extra ones.
    assert pool.fill_pool(3)["available"] == 3
    assert pool.fill_pool(1) == {"created": 0, "dropped": 2, "available": 1}


def test_a_schema_of_other_migrations_is_never_handed_out_and_is_dropped(fresh_template):
    stale = f"{pool.POOL_PREFIX}{'0' * 16}_1"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{stale}"')
    assert pool.available() == []
    assert create_town_schema("zz_not_stale") == "template"
    assert _schemas(stale) == [stale]
    assert pool.fill_pool(0) == {"created": 0, "dropped": 1, "available": 0}
    assert _schemas(stale) == []


def test_an_onboarding_that_fails_gives_its_schema_back(fresh_template):
    pool.fill_pool(1)
    [prepared] = pool.available()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert create_town_schema("zz_rolled_back") == "pool"
        raise RuntimeError("onboarding failed later")
    assert pool.available() == [prepared]
    assert _schemas("zz_rolled_back") == []


def test_concurrent_onboardings_never_share_a_schema(castres):
    """Committed pool (own connections); four onboardings at once, two prepared
    schemas: two take one each, the others are built from the template."""
    from core.testing import run_in_threads

    def fill():
        assert refresh_template().status == "fresh"
        return pool.fill_pool(2)

    names = [f"zz_race_{i}" for i in range(4)]

    def onboard(name):
        def go():
            connection.set_schema_to_public()
            with transaction.atomic():
                return create_town_schema(name)

        return go

    def cleanup():
        with connection.cursor() as cursor:
            for name in [*names, *pool.available()]:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    try:
        assert in_own_connection(None, fill)["available"] == 2
        # (each thread starts in a town's schema; onboarding moves to public)
        results = run_in_threads(castres, [onboard(n) for n in names])
        assert sorted(results) == ["pool", "pool", "template", "template"], results
        left = in_own_connection(None, lambda: (pool.available(), _schemas("zz_race_")))
        assert left[0] == [] and sorted(left[1]) == names
        described = in_own_connection(None, lambda: [describe_schema(n) for n in names])
        assert all(d == described[0] for d in described)
    finally:
        in_own_connection(None, cleanup)
