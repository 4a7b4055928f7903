"""manage.py export_commune <slug> [--config-version N] [-o fichier.yaml]

Writes the configuration in force (or a past version) in the
tenant_configs/<slug>.yaml format; `onboard_commune` reads it back unchanged."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from tenants.models import Commune, ConfigVersion
from tenants.services import export_yaml


class Command(BaseCommand):
    help = "Exporte la configuration d'une commune au format YAML de tenant_configs/."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--config-version", type=int, dest="number", help="une version passée")
        parser.add_argument("-o", "--output", help="fichier de sortie (défaut : sortie standard)")

    def handle(self, *args, slug, number=None, output=None, **options):
        connection.set_schema_to_public()
        commune = Commune.objects.filter(slug=slug).exclude(schema_name="public").first()
        if commune is None:
            raise CommandError(f"Commune « {slug} » inconnue.")
        data = commune.config
        if number is not None:
            version = ConfigVersion.objects.filter(commune=commune, number=number).first()
            if version is None:
                raise CommandError(f"{slug} n'a pas de version {number}.")
            data = version.data
        text = export_yaml(data)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"{slug} exportée dans {output}")
        else:
            self.stdout.write(text, ending="")
