"""manage.py rotate_vault_keys [slug ...]

Re-wraps every family's vault key under the CURRENT master key
(VAULT_MASTER_KEY / VAULT_MASTER_KEY_ID), town by town. No file is
re-encrypted: only the small wrapped key of each family (documents.VaultKey).

Resumable: a family already wrapped under the current key is skipped, each
family is written in its own short transaction, so an interrupted run is
simply started again. Progress: one line per town. A family whose key cannot
be recovered (a retired master key missing from VAULT_RETIRED_MASTER_KEYS, a
corrupted wrapped key) is reported and left as it is; the command then exits
non-zero. docs/operations.md, « Rotation de la clé du coffre-fort ».
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from core.towns import all_towns
from documents import vault
from documents.models import VaultItem, VaultKey


class Command(BaseCommand):
    help = "Re-chiffre la clé de coffre-fort de chaque famille sous la clé maîtresse courante."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="communes (défaut : toutes)")

    def handle(self, *args, slugs, verbosity, **options):
        connection.set_schema_to_public()
        towns = all_towns()
        if slugs:
            towns = towns.filter(slug__in=slugs)
        towns = list(towns)
        current = vault.current_key_id()
        self.stdout.write(
            f"Clé maîtresse courante : {current} ; {len(towns)} commune(s) à parcourir."
        )
        failures = 0
        for n, town in enumerate(towns, 1):
            with tenant_context(town):
                done, skipped, failed = self._town(town, current)
            failures += len(failed)
            self.stdout.write(
                f"[{n}/{len(towns)}] {town.slug} : {done} clé(s) re-chiffrée(s), "
                f"{skipped} déjà à jour, {len(failed)} en échec"
            )
            for household_id, reason in failed:
                self.stderr.write(
                    self.style.ERROR(f"  {town.slug} : foyer {household_id} : {reason}")
                )
        connection.set_schema_to_public()
        if failures:
            raise CommandError(
                f"{failures} famille(s) non re-chiffrée(s) : ajoutez la clé maîtresse manquante "
                "à VAULT_RETIRED_MASTER_KEYS puis relancez la commande."
            )

    def _town(self, town, current: str):
        schema = town.schema_name
        rows = {r.household_id: r for r in VaultKey.objects.all()}
        households = set(rows) | set(
            VaultItem.objects.values_list("household_id", flat=True).distinct()
        )
        done = skipped = 0
        failed = []
        for household_id in sorted(households):
            row = rows.get(household_id)
            if row is not None and row.key_id == current:
                skipped += 1
                continue
            try:
                with transaction.atomic():
                    key = vault.family_key(schema=schema, household_id=household_id)
                    if row is None:
                        _check_legacy_key(key, schema, household_id)
                    wrapped = vault.wrap(key, schema=schema, household_id=household_id)
                    VaultKey.objects.update_or_create(
                        household_id=household_id,
                        defaults={"key_id": current, "wrapped": wrapped},
                    )
            except vault.VaultError as exc:
                failed.append((household_id, str(exc)))
                continue
            done += 1
        return done, skipped, failed


def _check_legacy_key(key: bytes, schema: str, household_id: int) -> None:
    """A derived (pre-rotation) key is only stored once it opens one of the
    family's items: a wrong legacy master key must not be written down."""

    item = VaultItem.objects.filter(household_id=household_id).first()
    if item is not None:
        vault.open_metadata(
            item.metadata,
            schema=schema,
            household_id=household_id,
            item_id=str(item.public_id),
            key=key,
        )
