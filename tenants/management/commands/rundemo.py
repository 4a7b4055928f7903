"""The `make run` entry point: migrate, onboard the launch towns, load demo
data, then serve on 127.0.0.1:$PORT. Idempotent: a second run reuses it all."""

import datetime as dt
import os
from zoneinfo import ZoneInfo

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection
from django_tenants.utils import tenant_context

from accounts import demo as accounts_demo
from accounts.models import User
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
        parser.add_argument(
            "--date",
            default=os.environ.get("DEMO_DATE", ""),
            help=(
                "jouer la démonstration à cette date (AAAA-MM-JJ ou AAAA-MM-JJTHH:MM, heure de "
                "Paris ; variable DEMO_DATE) : l'horloge du processus part de cet instant"
            ),
        )

    def handle(self, *args, no_serve, date, **options):
        refuse_unsafe_target()  # published passwords: never on production or real towns
        if date:
            _travel_to(date)
        _create_database_if_missing()
        refuse_unsafe_target(database=True)
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
        call_command("onboard_commune", all=True, stdout=self.stdout)
        self._operator()
        accounts_demo.load_operator(OPERATOR_USERNAME)
        for commune in Commune.objects.exclude(schema_name="public"):
            with tenant_context(commune):
                load_town_demo(commune)
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
        connection.set_schema_to_public()
        if not User.objects.filter(username=OPERATOR_USERNAME).exists():
            User.objects.create_superuser(
                OPERATOR_USERNAME, "operateur@guichet-famille.example", OPERATOR_PASSWORD
            )


def load_town_demo(commune) -> None:
    """Every demo loader of one town, in its schema. Each builds its rows from
    today and tops them up on a later day (bookable days, payable invoices,
    open registrations on any date)."""
    accounts_demo.load(commune)  # famille.martin, agent.demo, admin.commune (accounts)
    families_demo.load(commune)  # the Martin household and children, three more, their demandes
    for code in commune.enabled_modules:
        module = registry().get(code)
        if module:
            module.load_demo_data(commune)
    content_demo.load(commune)
    documents_demo.load(commune)


def _travel_to(value: str) -> None:
    """Move this process's clock (time-machine, ticking) to `value`, Paris time:
    how the demo and its test are checked on another day (July, 31 December,
    29 February). The server keeps that clock while it runs."""

    # Development-only library (time-machine): loaded only with --travel.
    import time_machine

    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"Date invalide « {value} » : écrivez AAAA-MM-JJ ou AAAA-MM-JJTHH:MM."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("Europe/Paris"))
    time_machine.travel(moment, tick=True).start()


def demo_slugs() -> set[str]:
    """The towns the demo creates: one per tenant_configs/*.yaml."""
    return {p.stem for p in settings.TENANT_CONFIGS_DIR.glob("*.yaml")}


def refuse_unsafe_target(*, database: bool = False) -> None:
    """The demo creates an operator with a published password and staff with a
    published TOTP secret: refuse production settings, and (`database`) any
    database holding a town the demo did not create."""

    if settings.SETTINGS_MODULE.endswith(".prod"):
        raise CommandError(
            "rundemo refuse les réglages de production (portal.settings.prod) : la démonstration "
            "crée des comptes dont les mots de passe sont publiés."
        )
    if not database:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.tenants_commune')")
        if cursor.fetchone()[0] is None:
            return  # a new database
        cursor.execute("SELECT slug FROM public.tenants_commune WHERE schema_name <> 'public'")
        foreign = sorted({row[0] for row in cursor.fetchall()} - demo_slugs())
    if foreign:
        raise CommandError(
            "rundemo refuse cette base : elle contient des communes que la démonstration n'a pas "
            f"créées ({', '.join(foreign[:10])}). Utilisez une base dédiée à la démonstration."
        )


def _create_database_if_missing() -> None:
    """DATABASE_URL may name a database that does not exist yet: create it."""

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
