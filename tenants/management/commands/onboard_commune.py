"""manage.py onboard_commune tenant_configs/castres.yaml [...] | --all"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants.config import ConfigError
from tenants.onboarding import onboard_files


class Command(BaseCommand):
    help = "Crée ou met à jour des communes depuis tenant_configs/<slug>.yaml (tout ou rien)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="fichiers YAML de communes")
        parser.add_argument(
            "--all", action="store_true", help="tous les fichiers de tenant_configs/"
        )

    def handle(self, *args, files, all, **options):
        if all:
            files = sorted(str(p) for p in settings.TENANT_CONFIGS_DIR.glob("*.yaml"))
        if not files:
            raise CommandError("Indiquez au moins un fichier YAML, ou --all.")
        try:
            results = onboard_files(files)
        except ConfigError as exc:
            raise CommandError(f"Configuration refusée, rien n'a été modifié.\n{exc}") from None
        for r in results:
            self.stdout.write(r.summary())
