"""Whole-town export (reversibility, issue 22): one ZIP with every table of the
town's schema as CSV, a data dictionary, the town's YAML configuration, and the
documents and invoices as files. The vault's items are left out: they belong to
the families, are encrypted with their keys, and the archive says so.

Streams: each table goes from PostgreSQL's COPY straight into the archive
(never a whole table in memory); the archive's SHA-256 is computed while it is
written and recorded (`TownExport`). `manage.py export_town_data <slug>` and the
operator console's « Export complet » both call `export_town`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from core import metrics
from tenants.models import TownExport
from tenants.services import export_yaml

# The families' vault: encrypted with keys the town does not hold.
EXCLUDED_TABLES = {"documents_vaultitem", "documents_vaultkey"}
EXCLUDED_MEDIA = ("coffre-fort/",)
DICTIONARY = "dictionnaire.csv"
README = "LISEZMOI.md"
MANIFEST = "manifeste.json"


@dataclass
class ExportResult:
    sha256: str
    size: int
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows
    files: int = 0


class _HashingWriter(io.RawIOBase):
    """A write-only stream that hashes and counts what goes through it."""

    def __init__(self, target):
        self.target, self.hash, self.size = target, hashlib.sha256(), 0

    def writable(self):
        return True

    def write(self, data):
        self.target.write(data)
        self.hash.update(data)
        self.size += len(data)
        return len(data)

    def flush(self):
        self.target.flush()


def town_tables(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
            [schema],
        )
        return [name for (name,) in cursor.fetchall() if name not in EXCLUDED_TABLES]


def _columns(schema: str, table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            [schema, table],
        )
        return cursor.fetchall()


def _models_by_table() -> dict[str, object]:
    return {m._meta.db_table: m for m in apps.get_models(include_auto_created=True)}


def dictionary_rows(schema: str, tables: list[str]) -> list[list[str]]:
    """table, colonne, type, signification, codes — from the models' own labels."""
    models = _models_by_table()
    rows = []
    for table in tables:
        model = models.get(table)
        by_column = {}
        if model is not None:
            for f in model._meta.concrete_fields:
                by_column[f.column] = f
        table_label = str(model._meta.verbose_name) if model is not None else "table technique"
        rows.append([table, "", "", table_label, ""])
        for column, data_type in _columns(schema, table):
            f = by_column.get(column)
            meaning = str(getattr(f, "verbose_name", "") or "")
            if f is not None and f.is_relation and f.related_model is not None:
                meaning += f" (renvoie à {f.related_model._meta.db_table}.id)"
            codes = ""
            if f is not None and f.choices:
                codes = " | ".join(f"{value} = {label}" for value, label in f.flatchoices)
            rows.append([table, column, data_type, meaning, codes])
    return rows


def _readme(commune, tables: dict[str, int], when) -> str:
    lines = [
        f"# Export complet de {commune.name}",
        "",
        f"Produit le {when:%d/%m/%Y à %H:%M} (heure de Paris) par Guichet Famille.",
        "",
        "- `tables/<table>.csv` : chaque table de la commune, en CSV (UTF-8, virgule, "
        "première ligne = noms des colonnes, valeurs vides = NULL).",
        f"- `{DICTIONARY}` : pour chaque table et colonne, son type, sa signification "
        "et ses codes.",
        "- `configuration.yaml` : la configuration de la commune (format tenant_configs/ de "
        "Guichet Famille, relu tel quel par `manage.py onboard_commune`).",
        "- `fichiers/` : les justificatifs, documents et factures enregistrés.",
        f"- `{MANIFEST}` : le nombre de lignes de chaque table.",
        "",
        "Exclu : le coffre-fort numérique des familles (tables documents_vaultitem et "
        "documents_vaultkey, dossier coffre-fort/). Ces pièces appartiennent aux familles, "
        "sont chiffrées avec leurs clés, et chaque famille peut les télécharger elle-même "
        "depuis son espace avant la fin du contrat.",
        "",
        "| table | lignes |",
        "|---|---|",
    ]
    lines += [f"| {t} | {n} |" for t, n in tables.items()]
    return "\n".join(lines) + "\n"


def export_town(commune, target, *, progress: Callable[[int], None] | None = None) -> ExportResult:
    """Write the ZIP into the binary stream `target`; return its checksum and counts."""

    writer = _HashingWriter(target)
    counts: dict[str, int] = {}
    files = 0
    with (
        schema_context(commune.schema_name),
        zipfile.ZipFile(writer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        tables = town_tables(commune.schema_name)
        total = len(tables) + 1
        for index, table in enumerate(tables):
            counts[table] = _copy_table(archive, table)
            if progress:
                progress(int(100 * (index + 1) / total))
        buffer = io.StringIO()
        csv.writer(buffer).writerows(
            [
                ["table", "colonne", "type", "signification", "codes"],
                *dictionary_rows(commune.schema_name, tables),
            ]
        )
        archive.writestr(DICTIONARY, "\ufeff" + buffer.getvalue())
        archive.writestr("configuration.yaml", export_yaml(commune.config or {}))
        files = _copy_media(archive, commune.schema_name)
        archive.writestr(
            MANIFEST, json.dumps({"commune": commune.slug, "tables": counts}, indent=1)
        )
        archive.writestr(README, _readme(commune, counts, timezone.localtime()))
    metrics.record_town_export(town=commune.slug)
    if progress:
        progress(100)
    return ExportResult(writer.hash.hexdigest(), writer.size, counts, files)


def _copy_table(archive: zipfile.ZipFile, table: str) -> int:
    """COPY ... TO STDOUT straight into the archive; returns the rows written."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (name from information_schema)
        (rows,) = cursor.fetchone()
        with archive.open(f"tables/{table}.csv", "w", force_zip64=True) as out:
            with cursor.cursor.copy(
                f'COPY "{table}" TO STDOUT WITH (FORMAT csv, HEADER true)'
            ) as copy:
                for chunk in copy:
                    out.write(bytes(chunk))
    return rows


def _copy_media(archive: zipfile.ZipFile, schema: str) -> int:
    root = Path(settings.MEDIA_ROOT) / schema
    if not root.is_dir():
        return 0
    count = 0
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or relative.startswith(EXCLUDED_MEDIA):
            continue
        archive.write(path, f"fichiers/{relative}")
        count += 1
    return count


def read_counts(data) -> dict[str, int]:
    """Rows per table, counted from the archive's CSV files (round-trip check)."""
    counts = {}
    with zipfile.ZipFile(data) as archive:
        for name in archive.namelist():
            if name.startswith("tables/") and name.endswith(".csv"):
                with archive.open(name) as raw:
                    reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
                    counts[name[len("tables/") : -len(".csv")]] = sum(1 for _ in reader) - 1
    return counts


# --- the recorded run (command, console's Celery task) ---------------------------


def start_export(commune, *, requested_by: str = ""):
    return TownExport.objects.create(commune=commune, requested_by=requested_by[:160])


def run_export(export_id: int, *, path: str | None = None):
    """Produce the archive of a recorded `TownExport`, updating its progress;
    records the checksum, or the error (never a half-written file left behind)."""

    connection.set_schema_to_public()
    export = TownExport.objects.select_related("commune").get(pk=export_id)
    folder = Path(settings.TOWN_EXPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    target = Path(path) if path else folder / f"{export.commune.slug}-{stamp}-{export.pk}.zip"
    last = [-1]

    def progress(percent):
        if percent != last[0]:
            last[0] = percent
            TownExport.objects.filter(pk=export.pk).update(progress=percent)

    try:
        with target.open("wb") as out:
            result = export_town(export.commune, out, progress=progress)
    except Exception as exc:
        target.unlink(missing_ok=True)
        connection.set_schema_to_public()
        TownExport.objects.filter(pk=export.pk).update(
            status=TownExport.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    connection.set_schema_to_public()
    TownExport.objects.filter(pk=export.pk).update(
        status=TownExport.Status.DONE,
        progress=100,
        path=str(target),
        sha256=result.sha256,
        size=result.size,
        tables=len(result.tables),
        rows=sum(result.tables.values()),
        finished_at=timezone.now(),
    )
    export.refresh_from_db()
    return export, result
