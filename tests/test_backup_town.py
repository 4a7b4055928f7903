"""One town's backup and restore (issue #17): `manage.py backup_town` /
`restore_town` with the real pg_dump, pg_restore and psql against the test
database. Castres is backed up, damaged (rows deleted and changed, its public
row edited, a file removed), restored: every table, its public rows and its
files are as backed up. Bondoufle is untouched throughout. A town absent from
the database is restored whole; bad archives are refused in French with
nothing changed.

Rows are committed (own connections, tests.support.in_own_connection): pg_dump
and psql are other sessions. The test's own connection never reads a town's
tables (the restore drops the old schema, which would wait for its locks).
"""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tenants import template
from tenants.backup import table_digests
from tests.support import in_own_connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump absent"),
]

NAME = "Famille Sauvegarde"


def describe(town):
    """Catalog + rows of the town's schema, its public rows, its files."""
    from tenants.models import Commune, ConfigVersion, Domain

    def go():
        schema = town.schema_name
        commune = Commune.objects.filter(slug=town.slug).values().get()
        commune.pop("id")
        return {
            "schema": template.describe_schema(schema),
            "rows": table_digests(schema),
            "commune": commune,
            "domains": sorted(
                Domain.objects.filter(tenant__slug=town.slug).values_list("domain", "is_primary")
            ),
            "versions": sorted(
                ConfigVersion.objects.filter(commune__slug=town.slug).values_list(
                    "number", "digest", "created_at"
                )
            ),
        }

    return in_own_connection(None, go)


def files(media: Path, schema: str) -> dict[str, bytes]:
    root = media / schema
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def add_family():
    from families.models import Adult, Child, Household

    household = Household.objects.create(name=NAME, city="Castres")
    adult = Adult.objects.create(household=household, first_name="Zoé", last_name="Sauve")
    child = Child.objects.create(
        household=household, first_name="Noé", last_name="Sauve", birth_date="2018-01-01"
    )
    child.guardians.add(adult)
    return household.pk


def remove_family():
    from families.models import Household

    for household in Household.objects.filter(name=NAME):
        household.children.all().delete()
        household.adults.all().delete()
        household.delete()


def test_castres_round_trips_exactly_and_bondoufle_is_untouched(
    castres, bondoufle, tmp_path, settings
):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)
    for town, text in ((castres, "castres"), (bondoufle, "bondoufle")):
        folder = media / town.schema_name / "documents"
        folder.mkdir(parents=True)
        (folder / "attestation.pdf").write_bytes(f"%PDF-1.4 {text} é".encode())
    in_own_connection(castres, add_family)
    try:
        before_castres, before_bondoufle = describe(castres), describe(bondoufle)
        bondoufle_files = files(media, bondoufle.schema_name)
        archive = tmp_path / "castres.tar"
        out = io.StringIO()
        in_own_connection(
            None, lambda: call_command("backup_town", "castres", output=str(archive), stdout=out)
        )
        assert archive.is_file() and "castres" in out.getvalue() and "lignes" in out.getvalue()

        # An agent deletes the wrong thing, edits others; the town's row and a file change.
        def damage():
            from families.models import Adult

            Adult.objects.filter(last_name="Sauve").update(first_name="Effacée")
            remove_family()

        in_own_connection(castres, damage)

        def edit_public():
            from tenants.models import Commune, ConfigVersion

            Commune.objects.filter(slug="castres").update(contact_label="Changé")
            ConfigVersion.objects.filter(commune__slug="castres").update(message="changé")

        in_own_connection(None, edit_public)
        (media / castres.schema_name / "documents" / "attestation.pdf").unlink()
        (media / castres.schema_name / "intrus.txt").write_text("ajouté après")
        assert describe(castres) != before_castres

        out = io.StringIO()
        in_own_connection(
            None,
            lambda: call_command(
                "restore_town", "castres", "--from", str(archive), "--noinput", stdout=out
            ),
        )
        assert "identiques à la sauvegarde" in out.getvalue()
        after = describe(castres)
        for part in ("schema", "rows", "commune", "domains", "versions"):
            assert after[part] == before_castres[part], part  # schema: catalog and rows
        assert files(media, castres.schema_name) == {
            "documents/attestation.pdf": "%PDF-1.4 castres é".encode()
        }
        assert describe(bondoufle) == before_bondoufle
        assert files(media, bondoufle.schema_name) == bondoufle_files
        # The town is active again and no schema was left aside.
        assert after["commune"]["status"] == "active"

        def schemas():
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", ["%avant%"]
                )
                return cursor.fetchall()

        assert in_own_connection(None, schemas) == []
    finally:
        in_own_connection(castres, remove_family)


def test_a_town_missing_from_the_database_is_restored_whole(tmp_path, settings, castres):
    import yaml

    from tenants.config import validate
    from tenants.models import Commune
    from tenants.onboarding import onboard_commune

    settings.MEDIA_ROOT = str(tmp_path / "media")
    data = yaml.safe_load((settings.TENANT_CONFIGS_DIR / "castres.yaml").read_text())
    data.update(slug="sauvegarde-test", name="Sauvegarde", insee_code="99901", aliases=[])

    def create():
        onboard_commune(config=validate(data, source="test"))
        return Commune.objects.get(slug="sauvegarde-test")

    town = in_own_connection(None, create)
    archive = tmp_path / "sauvegarde.tar"

    def drop():
        from django.db import connection

        Commune.objects.filter(slug="sauvegarde-test").delete()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{town.schema_name}" CASCADE')

    try:
        before = describe(town)
        in_own_connection(
            None, lambda: call_command("backup_town", "sauvegarde-test", output=str(archive))
        )
        in_own_connection(None, drop)
        in_own_connection(
            None,
            lambda: call_command(
                "restore_town", "sauvegarde-test", "--from", str(archive), "--noinput"
            ),
        )
        assert describe(town) == before
    finally:
        in_own_connection(None, drop)


def test_bad_archives_are_refused_in_french_and_change_nothing(castres, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    before = describe(castres)
    archive = tmp_path / "castres.tar"
    in_own_connection(None, lambda: call_command("backup_town", "castres", output=str(archive)))

    garbage = tmp_path / "n-importe-quoi.tar"
    garbage.write_bytes(b"pas une archive")
    damaged = tmp_path / "abimee.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "schema.dump":
                data = data[:-10] + b"0123456789"
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    cases = [
        ("castres", garbage, "n'est pas une sauvegarde de commune lisible"),
        ("bondoufle", archive, "est celle de « castres », pas de « bondoufle »"),
        ("castres", damaged, "La sauvegarde est abîmée"),
    ]
    for slug, path, message in cases:
        with pytest.raises(CommandError, match=message):
            in_own_connection(
                None,
                lambda slug=slug, path=path: call_command(
                    "restore_town", slug, "--from", str(path), "--noinput"
                ),
            )
    with pytest.raises(CommandError, match="non sauvegardée.* atlantide"):
        in_own_connection(None, lambda: call_command("backup_town", "atlantide"))
    assert describe(castres) == before
