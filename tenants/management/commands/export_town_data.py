"""manage.py export_town_data <slug> [-o archive.zip]

The whole-town export (reversibility): every table as CSV with its data
dictionary, the YAML configuration, documents and invoices (tenants.town_export).
Prints the archive's path and SHA-256, also recorded for the operator console."""

from django.core.management.base import BaseCommand, CommandError

from tenants.models import Commune
from tenants.town_export import run_export, start_export


class Command(BaseCommand):
    help = "Exporte toutes les données d'une commune dans une archive ZIP (réversibilité)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", help="fichier ZIP (défaut : TOWN_EXPORT_DIR)")

    def handle(self, *args, slug, output=None, **options):
        commune = Commune.objects.filter(slug=slug).exclude(schema_name="public").first()
        if commune is None:
            raise CommandError(f"Commune « {slug} » inconnue.")
        export = start_export(commune, requested_by="manage.py export_town_data")
        export, result = run_export(export.pk, path=output)
        self.stdout.write(
            f"{commune.name} : {len(result.tables)} tables, {sum(result.tables.values())} lignes, "
            f"{result.files} fichiers.\n{export.path}\nSHA-256 {export.sha256}"
        )
