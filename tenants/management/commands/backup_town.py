"""manage.py backup_town <slug> [-o FILE] | --all --dir DIR [--keep N]

One town's archive: its schema (pg_dump), its public rows, its media files and a
manifest with every table's row count and digest (tenants/backup.py). `--all`
writes one archive per town into DIR (the nightly job of every deploy path:
helm CronJob, systemd timer, compose's `backup` service) and keeps the N newest
per town. Exit status non-zero when a town failed (the others are backed up).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core.towns import all_towns
from tenants.backup import BackupError, backup_town, prune_backups


class Command(BaseCommand):
    help = "Sauvegarde une commune (schéma, lignes publiques, fichiers) dans une archive."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="communes à sauvegarder")
        parser.add_argument("--all", action="store_true", help="toutes les communes")
        parser.add_argument("-o", "--output", help="fichier de l'archive (une seule commune)")
        parser.add_argument(
            "--dir", default=".", help="dossier des archives <slug>-<date>.tar (défaut : .)"
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=0,
            help="ne garder que les N archives les plus récentes par commune (0 : toutes)",
        )

    def handle(self, *args, slugs, all=False, output=None, dir=".", keep=0, **options):
        connection.set_schema_to_public()
        if all:
            slugs = [t.slug for t in all_towns()]
        if not slugs:
            raise CommandError("Indiquez une commune (slug) ou --all.")
        if output and len(slugs) != 1:
            raise CommandError("--output ne vaut que pour une seule commune.")
        failed = []
        for i, slug in enumerate(slugs, 1):
            try:
                result = backup_town(slug, Path(output) if output else None, directory=Path(dir))
            except BackupError as exc:
                failed.append(slug)
                self.stderr.write(f"[{i}/{len(slugs)}] {slug} : ÉCHEC — {exc}")
                continue
            self.stdout.write(
                f"[{i}/{len(slugs)}] {slug} : {result.path} — {result.tables} tables, "
                f"{result.rows} lignes, {result.media_files} fichier(s), {result.seconds:.1f} s"
            )
            if keep:
                for old in prune_backups(Path(dir), slug, keep):
                    self.stdout.write(f"    ancienne archive supprimée : {old.name}")
        if failed:
            raise CommandError(f"{len(failed)} commune(s) non sauvegardée(s) : {', '.join(failed)}")
