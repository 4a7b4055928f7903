"""manage.py migrate_towns [schema ...] [--workers N] [--wave-size N] [--max-failures N]

Deploy step for thousands of towns (replaces `migrate_schemas --tenant`):
reads every town's applied migrations in a few queries, skips the towns that are
up to date, migrates the others in parallel, prints one line per migrated or
failed town (every town with -v 2) and exits non-zero when a town failed.
Then refreshes the town template (tenants/template.py) when the code's
migrations changed. Run `manage.py migrate_schemas --shared` first.
"""

from __future__ import annotations

import csv
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from tenants.migrations_runner import (
    TownResult,
    code_migrations,
    default_workers,
    migrate_towns,
    read_town_states,
)
from tenants.models import Commune
from tenants.pool import fill_pool
from tenants.template import refresh_template


class Command(BaseCommand):
    help = "Migre les schémas des communes en retard, en parallèle (rapport par commune)."

    def add_arguments(self, parser):
        parser.add_argument(
            "schemas", nargs="*", help="schémas à migrer (défaut : toutes les communes)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            help="processus en parallèle, une connexion chacun (défaut : %(default)s)",
        )
        parser.add_argument(
            "--wave-size", type=int, default=200, help="communes par vague (défaut : %(default)s)"
        )
        parser.add_argument(
            "--max-failures",
            type=int,
            default=None,
            help="après ce nombre d'échecs, les vagues suivantes ne sont pas lancées",
        )
        parser.add_argument(
            "--lock-timeout",
            default="30s",
            help="attente maximale d'un verrou par commune (défaut : %(default)s)",
        )
        parser.add_argument(
            "--post-migrate",
            choices=["all", "plan"],
            default="all",
            help="signal post_migrate pour toutes les applications (comme migrate) "
            "ou seulement celles dont une migration a tourné",
        )
        parser.add_argument("--report", help="écrit un rapport CSV (une ligne par commune)")
        parser.add_argument(
            "--no-template",
            action="store_true",
            help="ne pas rafraîchir le modèle de création des communes",
        )

    def handle(
        self,
        *args,
        schemas,
        workers,
        wave_size,
        max_failures,
        lock_timeout,
        post_migrate,
        report,
        no_template,
        verbosity,
        **options,
    ):
        connection.set_schema_to_public()
        towns = list(
            Commune.objects.exclude(schema_name="public")
            .order_by("schema_name")
            .values_list("schema_name", flat=True)
        )
        if schemas:
            unknown = sorted(set(schemas) - set(towns))
            if unknown:
                raise CommandError(f"Schémas inconnus (aucune commune) : {', '.join(unknown)}")
            towns = [s for s in towns if s in set(schemas)]

        public = read_town_states(["public"], code_migrations())["public"]
        if public.unapplied:
            # Shared tables first: a town's migration may rely on them.
            self.stderr.write(
                self.style.WARNING(
                    f"Le schéma public a {len(public.unapplied)} migration(s) en attente : lancez "
                    "d'abord « manage.py migrate_schemas --shared »."
                )
            )

        def show(result: TownResult) -> None:
            if result.status == "failed":
                where = f" ({result.failed_migration})" if result.failed_migration else ""
                self.stdout.write(
                    self.style.ERROR(f"{result.schema}: ÉCHEC{where} : {result.error}")
                )
            elif verbosity >= 1:
                self.stdout.write(
                    f"{result.schema}: migrée ({len(result.applied)} migration(s) "
                    f"en {result.seconds:.2f} s) {', '.join(result.applied)}"
                )

        started = time.perf_counter()
        outcome = migrate_towns(
            towns,
            workers=workers,
            wave_size=wave_size,
            max_failures=max_failures,
            lock_timeout=lock_timeout,
            post_migrate=post_migrate,
            verbosity=verbosity,
            on_result=show,
        )
        if verbosity >= 2:
            for schema in outcome.up_to_date:
                self.stdout.write(f"{schema}: à jour")
        for schema in outcome.not_attempted:
            self.stdout.write(self.style.WARNING(f"{schema}: non tentée (trop d'échecs)"))
        if report:
            self._write_report(report, outcome)

        template = ""
        if not no_template and not outcome.failed:
            state = refresh_template(prune=True)
            template = f" ; modèle de commune : {state.status}"
            if state.status == "fresh":
                pool = fill_pool()
                template += (
                    f" ; réserve de schémas prêts : {pool['available']} "
                    f"({pool['created']} créé(s), {pool['dropped']} supprimé(s))"
                )
        if verbosity >= 1:
            migrated = outcome.migrated
            self.stdout.write(
                f"{len(towns)} commune(s) : {len(outcome.up_to_date)} à jour, "
                f"{len(migrated)} migrée(s), "
                f"{len(outcome.failed)} en échec, {len(outcome.not_attempted)} non tentée(s) ; "
                f"état lu en {outcome.read_seconds:.2f} s, "
                f"total {time.perf_counter() - started:.2f} s"
                f"{template}"
            )
        if outcome.failed or outcome.not_attempted:
            raise CommandError(
                f"{len(outcome.failed)} commune(s) en échec : "
                + ", ".join(r.schema for r in outcome.failed[:20])
                + (" ..." if len(outcome.failed) > 20 else "")
            )

    @staticmethod
    def _write_report(path, outcome) -> None:
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["schema", "status", "migrations", "seconds", "failed_migration", "error"])
            for r in outcome.results:
                w.writerow(
                    [
                        r.schema,
                        r.status,
                        " ".join(r.applied),
                        f"{r.seconds:.3f}",
                        r.failed_migration,
                        r.error,
                    ]
                )
            for s in outcome.up_to_date:
                w.writerow([s, "up-to-date", "", "", "", ""])
            for s in outcome.not_attempted:
                w.writerow([s, "not-attempted", "", "", "", ""])
