"""The `make run` entry point: migrate, onboard the launch towns, load demo
data, then serve on 127.0.0.1:$PORT. Idempotent: a second run reuses it all."""

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django_tenants.utils import tenant_context

from accounts import demo as accounts_demo
from content import demo as content_demo
from core.modules import registry
from documents import demo as documents_demo
from families import demo as families_demo
from tenants.models import Commune

OPERATOR_USERNAME = "operateur"
OPERATOR_PASSWORD = "demo-operateur-2026"  # demo only: printed in the README


class Command(BaseCommand):
    help = "Prépare la démonstration (5 communes, données fictives) et lance le serveur."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-serve", action="store_true", help="préparer sans lancer le serveur"
        )

    def handle(self, *args, no_serve, **options):
        _create_database_if_missing()
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
        call_command("onboard_commune", all=True, stdout=self.stdout)
        self._operator()
        accounts_demo.load_operator(OPERATOR_USERNAME)
        for commune in Commune.objects.exclude(schema_name="public"):
            with tenant_context(commune):
                accounts_demo.load(commune)  # famille.martin, agent.demo, admin.commune
                families_demo.load(commune)  # three more households, demandes decided by agent.demo
                for code in commune.enabled_modules:
                    module = registry().get(code)
                    if module:
                        module.load_demo_data(commune)
                content_demo.load(commune)
                documents_demo.load(commune)
        connection.set_schema_to_public()
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        port = os.environ.get("PORT", "8000")
        self.stdout.write(
            f"Démo prête : http://127.0.0.1:{port}/ — opérateur : {OPERATOR_USERNAME} / "
            f"{OPERATOR_PASSWORD} sur /admin/ (code TOTP : docs/demo-accounts.md)"
        )
        if not no_serve:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True)

    def _operator(self):
        from accounts.models import User

        connection.set_schema_to_public()
        if not User.objects.filter(username=OPERATOR_USERNAME).exists():
            User.objects.create_superuser(
                OPERATOR_USERNAME, "operateur@guichet-famille.example", OPERATOR_PASSWORD
            )


def _create_database_if_missing() -> None:
    """DATABASE_URL may name a database that does not exist yet: create it."""
    import psycopg
    from django.db import OperationalError

    try:
        connection.ensure_connection()
        return
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    d = connection.settings_dict
    params = {
        "dbname": "postgres",
        "user": d["USER"],
        "host": d["HOST"] or None,
        "port": d["PORT"] or None,
        "password": d["PASSWORD"] or None,
    }
    with psycopg.connect(autocommit=True, **{k: v for k, v in params.items() if v}) as c:
        c.execute(f'CREATE DATABASE "{d["NAME"]}"')
