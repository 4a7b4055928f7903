"""manage.py migrate_towns (tenants/migrations_runner.py) on real schemas.

The parallel tests need COMMITTED towns (worker processes have their own
connections), so they create a handful of towns outside the test transaction
and drop them afterwards; the extra migration comes from a temporary copy of
core's migrations (MIGRATION_MODULES), never from the product.
"""

import csv
import io
import shutil
import sys
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from tenants.migrations_runner import code_migrations, migrate_towns, read_town_states
from tenants.models import Commune
from tenants.template import refresh_template, save_new_town

PROBE_TABLE = "core_scale_probe"


@contextmanager
def committed_towns(blocker, prefix, n=3):
    """n towns committed for real (from the template), removed afterwards."""
    schemas = [f"zz_{prefix}_{i}" for i in range(1, n + 1)]
    with blocker.unblock():
        connection.set_schema_to_public()
        refresh_template()
        try:
            for i, schema in enumerate(schemas):
                with transaction.atomic():
                    save_new_town(
                        Commune(
                            schema_name=schema,
                            slug=schema.replace("_", "-"),
                            name=schema,
                            insee_code=f"Z{prefix[:2]}{i}",
                            department="Test",
                            department_code="00",
                            contact_label="Mairie",
                        )
                    )
            yield schemas
        finally:
            connection.set_schema_to_public()
            Commune.objects.filter(schema_name__in=schemas).delete()
            with connection.cursor() as cursor:
                for schema in schemas:
                    cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def blocker(django_db_setup, django_db_blocker):
    """DB access outside a test transaction, on the TEST database (django_db_setup)."""
    return django_db_blocker


@pytest.fixture
def extra_migration(tmp_path, settings, monkeypatch):
    """Call it to add one migration to core (creating PROBE_TABLE); returns its key.

    Called after the towns are created: they are made from the product's template."""
    leaf = max(
        n
        for a, n in MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()
        if a == "core"
    )
    package = tmp_path / "scale_probe_core_migrations"
    source = MigrationLoader(None).migrations_module("core")[0]
    shutil.copytree(
        sys.modules[source].__path__[0], package, ignore=shutil.ignore_patterns("__pycache__")
    )
    (package / "9000_scale_probe.py").write_text(
        "from django.db import migrations\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [('core', '{leaf}')]\n"
        f"    operations = [migrations.RunSQL('CREATE TABLE {PROBE_TABLE} (id int)',\n"
        f"                                    'DROP TABLE {PROBE_TABLE}')]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    def activate():
        settings.MIGRATION_MODULES = {"core": "scale_probe_core_migrations"}
        return ("core", "9000_scale_probe")

    return activate


def _run(*args):
    out = io.StringIO()
    try:
        call_command("migrate_towns", *args, stdout=out)
    finally:
        print(out.getvalue())
    return out.getvalue()


def _has_probe(schema):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass(%s) IS NOT NULL, "
            f'(SELECT count(*) FROM "{schema}".django_migrations '
            "WHERE name = '9000_scale_probe')",
            [f"{schema}.{PROBE_TABLE}"],
        )
        return cursor.fetchone()


def test_up_to_date_towns_are_skipped(blocker):
    with committed_towns(blocker, "skip") as towns, blocker.unblock():
        states = read_town_states(towns, code_migrations())
        assert all(states[t].unapplied == () for t in towns)
        out = _run(*towns, "--workers=2", "--no-template")
    assert "3 commune(s) : 3 à jour, 0 migrée(s), 0 en échec" in out


def test_additive_migration_is_applied_to_every_town_in_parallel(blocker, extra_migration):
    with committed_towns(blocker, "add") as towns, blocker.unblock():
        # post_migrate runs for migrated towns: a content type lost in one town comes back.
        town = towns[0]
        with connection.cursor() as cursor:
            cursor.execute(
                f'DELETE FROM "{town}".auth_permission WHERE content_type_id IN (SELECT '
                f"id FROM \"{town}\".django_content_type WHERE model = 'contact')"
            )
            cursor.execute(f"DELETE FROM \"{town}\".django_content_type WHERE model = 'contact'")
        probe = extra_migration()
        states = read_town_states(towns, code_migrations())
        assert all(states[t].unapplied == (probe,) for t in towns)

        out = _run(*towns, "--workers=2", "--no-template")
        assert "3 commune(s) : 0 à jour, 3 migrée(s), 0 en échec" in out
        assert out.count("core.9000_scale_probe") == 3
        assert all(_has_probe(t) == (True, 1) for t in towns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM \"{town}\".django_content_type WHERE model = 'contact'"
            )
            assert cursor.fetchone()[0] == 1

        again = _run(*towns, "--workers=2", "--no-template")
        assert "3 à jour, 0 migrée(s)" in again


def test_a_failing_town_is_reported_and_the_others_are_migrated(blocker, extra_migration, tmp_path):
    with committed_towns(blocker, "fail") as towns, blocker.unblock():
        extra_migration()
        broken = towns[1]
        with connection.cursor() as cursor:  # a conflicting table made by hand
            cursor.execute(f'CREATE TABLE "{broken}".{PROBE_TABLE} (note text)')
        report = tmp_path / "report.csv"
        out = io.StringIO()
        with pytest.raises(CommandError, match=f"1 commune\\(s\\) en échec : {broken}"):
            call_command(
                "migrate_towns",
                *towns,
                "--workers=2",
                "--no-template",
                f"--report={report}",
                stdout=out,
            )
        print(out.getvalue())
        assert f"{broken}: ÉCHEC (core.9000_scale_probe) : ProgrammingError" in out.getvalue()
        assert "already exists" in out.getvalue()
        assert _has_probe(towns[0]) == (True, 1) and _has_probe(towns[2]) == (True, 1)
        # The failed town is left as it was: its own table, no migration recorded.
        assert _has_probe(broken) == (True, 0)
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{broken}".{PROBE_TABLE} WHERE note IS NULL')
        rows = {r["schema"]: r for r in csv.DictReader(report.open())}
        assert rows[broken]["status"] == "failed"
        assert rows[towns[0]]["status"] == rows[towns[2]]["status"] == "migrated"


def test_max_failures_stops_later_waves(blocker, extra_migration):
    with committed_towns(blocker, "wave") as towns, blocker.unblock():
        extra_migration()
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE TABLE "{towns[0]}".{PROBE_TABLE} (note text)')
        report = migrate_towns(towns, workers=1, wave_size=1, max_failures=1)
    assert [r.schema for r in report.failed] == [towns[0]]
    assert report.not_attempted == towns[1:]


def test_state_reading_handles_odd_towns(db, castres):
    code = code_migrations()
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA zz_no_table")
        cursor.execute(
            f"INSERT INTO {castres.schema_name}.django_migrations (app, name, applied) "
            "VALUES ('gone', '0001_removed_since', now())"
        )
    states = read_town_states([castres.schema_name, "zz_no_table", "zz_missing"], code, chunk=2)
    assert states[castres.schema_name].unapplied == ()  # an unknown extra row is not "behind"
    assert set(states["zz_no_table"].unapplied) == code.nodes
    assert states["zz_missing"].problem == "schéma absent"


def test_in_process_run_isolates_each_town_in_a_savepoint(db, castres, bondoufle, extra_migration):
    extra_migration()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {castres.schema_name}.{PROBE_TABLE} (note text)")
    report = migrate_towns(
        [castres.schema_name, bondoufle.schema_name], workers=1, post_migrate="plan"
    )
    assert [r.schema for r in report.failed] == [castres.schema_name]
    assert [r.schema for r in report.migrated] == [bondoufle.schema_name]
    assert _has_probe(bondoufle.schema_name) == (True, 1)
    assert Commune.objects.count() >= 2  # the test's transaction is still usable


def test_indexed_introspection_lists_the_same_tables_as_django_tenants(db, castres, in_town):
    from tenants.migrations_runner import _IndexedIntrospection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE VIEW {castres.schema_name}.zz_view AS SELECT 1 AS one")
    with in_town(castres), connection.cursor() as cursor:
        stock = connection.introspection.get_table_list(cursor)
        ours = _IndexedIntrospection(connection).get_table_list(cursor)
    assert sorted(ours) == sorted(stock)
    assert {"django_migrations", "core_service", "zz_view"} <= {t.name for t in ours}
