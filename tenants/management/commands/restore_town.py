"""manage.py restore_town <slug> --from FILE

Restores one town from a `backup_town` archive, into the same town or into a
database where it does not exist: suspends it, replaces its schema in one
transaction, writes back its public rows and media, compares every table with
the archive's manifest, then resumes it (tenants/backup.py). Other towns are
not touched.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants.backup import BackupError, read_manifest, restore_town


class Command(BaseCommand):
    help = "Restaure une commune depuis une archive de backup_town (les autres sont intactes)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--from", dest="archive", required=True, help="archive .tar")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="ne pas demander de confirmation",
        )

    def handle(self, *args, slug, archive, interactive=True, **options):
        path = Path(archive)
        try:
            manifest = read_manifest(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if interactive:
            answer = input(
                f"Remplacer toutes les données de « {slug} » par la sauvegarde du "
                f"{manifest.get('created_at')} ? Tapez le nom de la commune pour confirmer : "
            )
            if answer.strip() != slug:
                raise CommandError("Restauration annulée.")
        try:
            result = restore_town(slug, path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        what = "créée" if result.created else "remplacée"
        self.stdout.write(
            f"{slug} {what} depuis {path.name} : {result.tables} tables, {result.rows} lignes, "
            f"{result.media_files} fichier(s), identiques à la sauvegarde, {result.seconds:.1f} s"
        )
        for note in result.notes:
            self.stdout.write(f"  {note}")
