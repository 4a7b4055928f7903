"""manage.py import_families <slug> <dossier> [--preset noethys] [--executer]

Imports a town's families from its previous portal's files (docs/import/format.md):
`<dossier>/foyers.csv` (or .xlsx), `responsables`, `enfants`, `sante`,
`personnes_autorisees`, `quotients`, and the files other apps contribute
(`inscriptions`; `soldes` where billing is on). Without --executer: the dry run (nothing is
written), with the French report. With --executer: each file's accepted lines in
one transaction; running it again changes nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from families.import_rules import PRESETS
from families.imports import entities, run_import
from tenants.models import Commune


class Command(BaseCommand):
    help = (
        "Importe les familles d'une commune depuis les fichiers de son ancien portail "
        "(essai à blanc par défaut)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("dossier", help="dossier des fichiers foyers.csv, enfants.xlsx…")
        parser.add_argument("--preset", default="guichet", choices=sorted(PRESETS))
        parser.add_argument(
            "--executer", action="store_true", help="enregistrer (sinon essai à blanc)"
        )
        parser.add_argument("--rapport", help="écrire le rapport dans ce fichier")

    def handle(self, *args, slug, dossier, preset, executer, rapport=None, **options):
        commune = Commune.objects.filter(slug=slug).exclude(schema_name="public").first()
        if commune is None:
            raise CommandError(f"Commune « {slug} » inconnue.")
        folder = Path(dossier)
        found = {}
        with schema_context(commune.schema_name):
            codes = list(entities())
        for code in codes:
            for ext in ("csv", "xlsx"):
                path = folder / f"{code}.{ext}"
                if path.exists():
                    found[code] = path
        if not found:
            raise CommandError(f"Aucun fichier attendu dans {folder} (foyers.csv, enfants.csv…).")
        streams = {code: (path.name, path.open("rb")) for code, path in found.items()}
        try:
            with schema_context(commune.schema_name):
                report = run_import(streams, preset=preset, apply=executer)
        finally:
            for _name, stream in streams.values():
                stream.close()
        text = report.text()
        if rapport:
            Path(rapport).write_text(text, encoding="utf-8")
        self.stdout.write(text)
        if not report.ok:
            raise CommandError("Au moins un fichier n'a pas pu être lu (voir le rapport).")
