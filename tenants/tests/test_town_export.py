"""Whole-town export (reversibility, issue 22): every table of a demo town is in
the archive with as many rows as the database holds, each table and column is
in the data dictionary, the vault is left out and says so, the checksum is
recorded, and the operator console shows the export's progress."""

import csv
import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.db import connection

from tenants.models import TownExport
from tenants.town_export import DICTIONARY, EXCLUDED_TABLES, README, read_counts, town_tables


def db_counts(schema):
    with connection.cursor() as cursor:
        cursor.execute(f'SET search_path TO "{schema}"')
        out = {}
        for table in town_tables(schema):
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
            out[table] = cursor.fetchone()[0]
        cursor.execute("SET search_path TO public")
        return out


def test_demo_town_round_trips_through_the_dictionary(castres, in_town, tmp_path, capsys):
    from tenants.management.commands.rundemo import load_town_demo
    from tests.factories import AdultFactory, ChildFactory, HouseholdFactory

    with in_town(castres):
        load_town_demo(castres)  # the demo town: families, bookings, invoices, documents
        household = HouseholdFactory(name="Famille « Export », née à Zürich")
        AdultFactory(household=household)
        ChildFactory(household=household, first_name="Léa\nretour à la ligne")
    target = tmp_path / "castres.zip"
    call_command("export_town_data", "castres", output=str(target))
    out = capsys.readouterr().out
    data = target.read_bytes()
    export = TownExport.objects.get(commune=castres)
    assert export.status == "done" and export.progress == 100
    assert export.sha256 == hashlib.sha256(data).hexdigest() and export.sha256 in out
    expected = db_counts(castres.schema_name)
    assert expected["families_child"] >= 1
    assert read_counts(io.BytesIO(data)) == expected
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        assert {DICTIONARY, README, "configuration.yaml", "manifeste.json"} <= names
        rows = list(csv.reader(io.StringIO(archive.read(DICTIONARY).decode("utf-8-sig"))))
        described = {(r[0], r[1]) for r in rows[1:]}
        for table in expected:
            with archive.open(f"tables/{table}.csv") as f:
                header = next(csv.reader(io.TextIOWrapper(f, encoding="utf-8")))
            assert all((table, column) in described for column in header), table
        child = next(r for r in rows if r[:2] == ["families_child", "sex"])
        assert child[3] == "sexe" and "F = fille" in child[4]
        assert not EXCLUDED_TABLES & {n[7:-4] for n in names if n.startswith("tables/")}
        assert "coffre-fort" in archive.read(README).decode()
        assert json.loads(archive.read("manifeste.json"))["tables"] == expected


@pytest.fixture
def operator_client(client, db):
    from accounts.models import User
    from accounts.testing import force_login_verified

    operator = User.objects.create_superuser(
        "ops", "ops@example.org", "un-mot-de-passe-operateur", role="operator"
    )
    force_login_verified(client, operator)
    return client


def test_console_starts_an_export_and_shows_its_progress(
    castres, operator_client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.TOWN_EXPORT_DIR = str(tmp_path)
    page = operator_client.get(f"/admin/tenants/commune/{castres.pk}/export/")
    assert page.status_code == 200 and "Export complet" in page.content.decode()
    with django_capture_on_commit_callbacks() as callbacks:
        response = operator_client.post(f"/admin/tenants/commune/{castres.pk}/export/")
    assert response.status_code == 302
    export = TownExport.objects.get(commune=castres)
    running = operator_client.get(f"/admin/tenants/commune/{castres.pk}/export/").content.decode()
    assert "en cours" in running and 'http-equiv="refresh"' in running
    for callback in callbacks:  # the Celery task (in-process in tests)
        callback()
    export.refresh_from_db()
    assert export.status == "done" and export.progress == 100
    page = operator_client.get(f"/admin/tenants/commune/{castres.pk}/export/").content.decode()
    assert export.sha256 in page and "100 %" in page
    archive = operator_client.get(
        f"/admin/tenants/commune/{castres.pk}/export/{export.pk}/archive/"
    )
    assert archive.status_code == 200
    assert hashlib.sha256(b"".join(archive.streaming_content)).hexdigest() == export.sha256
