"""Town template (tenants/template.py): a town replayed from the template is the
same, object for object and row for row, as a town built by migrations."""

import time

import pytest
from django.db import connection

from tenants import template
from tenants.models import Commune
from tenants.template import (
    TemplateUnsupported,
    create_town_schema,
    describe_schema,
    generate_script,
    refresh_template,
    replay,
    template_schema,
    template_state,
)


def _sql(*statements):
    with connection.cursor() as cursor:
        for s in statements:
            cursor.execute(s)


@pytest.fixture(autouse=True)
def _forget_scripts():
    # Tests roll back the template they change; the process cache must not remember it.
    yield
    template._scripts.clear()


@pytest.fixture
def fresh_template(db):
    state = refresh_template()  # built once per session (on_commit of the first onboarding)
    assert state.status == "fresh", state
    return state


def test_town_from_template_equals_town_from_migrations(fresh_template):
    started = time.perf_counter()
    assert create_town_schema("zz_by_template") == "template"
    by_template = time.perf_counter() - started
    started = time.perf_counter()
    template._create_by_migrations("zz_by_migrations", using="default")
    by_migrations = time.perf_counter() - started
    print(f"\nnew town schema: template {by_template:.3f} s, migrations {by_migrations:.3f} s")

    expected = describe_schema("zz_by_migrations")
    got = describe_schema("zz_by_template")
    assert got == expected
    # Not vacuous: tables, constraints, indexes, content types and migrations are compared.
    kinds = {item.split(" ", 1)[0] for item in got}
    assert {"rel", "col", "con", "idx", "seq", "rows"} <= kinds
    assert any(i.startswith("rows django_content_type (") and "(0, None)" not in i for i in got)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM zz_by_template.django_migrations "
            "WHERE applied > now() - interval '1 minute'"
        )
        assert cursor.fetchone()[0] > 0  # applied = when the town was created, not the template


def test_new_town_identity_columns_continue_after_template_rows(fresh_template):
    create_town_schema("zz_seq")
    _sql(
        "SET search_path TO zz_seq",
        "INSERT INTO django_content_type (app_label, model) VALUES ('zz', 'zz')",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(id) = (SELECT id FROM zz_seq.django_content_type "
            "WHERE app_label = 'zz'), count(*) FROM zz_seq.django_content_type"
        )
        is_last, count = cursor.fetchone()
    assert is_last and count > 1


def test_onboarding_uses_the_template(fresh_template, monkeypatch, tmp_path):
    from tenants.onboarding import onboard_files
    from tenants.tests.test_onboarding import base_config, write

    def no_migrations(*args, **kwargs):
        raise AssertionError("migrations run although the template is fresh")

    monkeypatch.setattr(template, "_create_by_migrations", no_migrations)
    [result] = onboard_files([write(tmp_path, base_config())])
    assert result.created
    assert Commune.objects.filter(schema_name="saint_test").exists()


def test_other_migration_state_falls_back_to_migrations_then_builds_its_template(
    fresh_template, monkeypatch, django_capture_on_commit_callbacks
):
    # The code has other migrations (a deploy added one): no template of its own yet.
    monkeypatch.setattr(template, "state_key", lambda: "0123456789abcdef0123456789abcdef")
    assert template_state().status == "missing"
    with django_capture_on_commit_callbacks() as callbacks:
        assert create_town_schema("zz_stale") == "migrations"
    assert describe_schema("zz_stale") == describe_schema(template_schema(fresh_template.key))
    assert len(callbacks) == 1
    callbacks[0]()  # what runs after the onboarding commits
    assert template_state().status == "fresh"
    assert create_town_schema("zz_after_refresh") == "template"
    # Both templates exist (old processes of a rolling deploy keep theirs) until pruned.
    assert _schema_exists(template_schema(fresh_template.key))
    refresh_template(prune=True)
    assert not _schema_exists(template_schema(fresh_template.key))
    assert _schema_exists(template_schema())


def _schema_exists(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def test_a_replay_that_fails_falls_back_to_migrations_and_rebuilds(
    fresh_template, monkeypatch, django_capture_on_commit_callbacks
):
    broken = template.Script(fresh_template.key, "CREATE TABLE nope (id no_such_type)", 1, 0.0)
    monkeypatch.setattr(template, "template_script", lambda using: broken)
    with django_capture_on_commit_callbacks() as callbacks:
        assert create_town_schema("zz_broken") == "migrations"
    assert describe_schema("zz_broken") == describe_schema(template_schema())
    assert len(callbacks) == 1  # a forced rebuild after commit


def test_existing_schema_is_kept_as_django_tenants_does(fresh_template):
    _sql("CREATE SCHEMA zz_taken", "CREATE TABLE zz_taken.mine (id int)")
    assert create_town_schema("zz_taken") == "existing"
    assert describe_schema("zz_taken")[0].startswith("col mine")


FEATURES = [
    "CREATE SEQUENCE counter AS integer START WITH 10 INCREMENT BY 5",
    "SELECT nextval('counter')",
    """CREATE TABLE thing (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        legacy serial,
        code varchar(20) COLLATE "C" NOT NULL DEFAULT 'x' CHECK (code <> ''),
        qty integer DEFAULT nextval('counter'),
        doubled integer GENERATED ALWAYS AS (qty * 2) STORED,
        tags text[] NOT NULL DEFAULT '{}',
        payload jsonb,
        blob bytea,
        at timestamptz,
        parent_id bigint REFERENCES thing (id) DEFERRABLE INITIALLY DEFERRED,
        UNIQUE NULLS NOT DISTINCT (code, payload)
    ) WITH (fillfactor = 90)""",
    "CREATE INDEX thing_lower_code ON thing (lower(code)) WHERE qty > 0",
    "CREATE UNLOGGED TABLE scratchpad (k text PRIMARY KEY)",
    "COMMENT ON TABLE thing IS 'une chose, l''autre'",
    "COMMENT ON COLUMN thing.code IS 'code'",
    """INSERT INTO thing (code, tags, payload, blob, at) VALUES
        ('a', '{x,\"y z\"}', '{\"k\": [1, 2.5, null]}', '\\x00ff', '2025-01-02 03:04:05+01'),
        ('b''c', '{}', NULL, NULL, NULL)""",
    "UPDATE thing SET parent_id = 1 WHERE code = 'b''c'",
]


def test_generator_reproduces_columns_constraints_indexes_comments_and_rows(db):
    _sql("CREATE SCHEMA zz_source", "SET search_path TO zz_source", *FEATURES)
    script = generate_script("zz_source")
    replay(script, "zz_copy")
    assert describe_schema("zz_copy") == describe_schema("zz_source")
    _sql(
        "SET search_path TO zz_copy", "INSERT INTO thing (code) VALUES ('new')"
    )  # identity and serial continue after the rows
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, legacy, qty FROM zz_copy.thing WHERE code = 'new'")
        assert cursor.fetchone() == (3, 3, 25)


UNSUPPORTED = {
    "view": "CREATE VIEW v AS SELECT 1 AS one",
    "function": "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "enum type": "CREATE TYPE mood AS ENUM ('ok')",
    "trigger": (
        "CREATE FUNCTION public.zz_noop() RETURNS trigger LANGUAGE plpgsql "
        "AS 'BEGIN RETURN NEW; END';"
        "CREATE TRIGGER t BEFORE INSERT ON base FOR EACH ROW EXECUTE FUNCTION public.zz_noop()"
    ),
    "row security": "ALTER TABLE base ENABLE ROW LEVEL SECURITY",
}


@pytest.mark.parametrize("statement", UNSUPPORTED.values(), ids=list(UNSUPPORTED))
def test_unknown_objects_make_the_template_unusable_not_wrong(db, statement):
    _sql(
        "CREATE SCHEMA zz_odd", "SET search_path TO zz_odd", "CREATE TABLE base (id int)", statement
    )
    with pytest.raises(TemplateUnsupported):
        generate_script("zz_odd")


def test_unusable_template_means_migrations(fresh_template, monkeypatch):
    def unsupported(*args, **kwargs):
        raise TemplateUnsupported("objet inconnu")

    monkeypatch.setattr(template, "generate_script", unsupported)
    state = refresh_template(force=True)
    assert state.status == "unusable" and "objet inconnu" in state.detail
    assert template_state().status == "unusable"
    template._scripts.clear()
    assert create_town_schema("zz_unusable") == "migrations"
