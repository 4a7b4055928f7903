"""`manage.py check --deploy` refuses a deployment where a town's online payment
cannot work: a secret's environment variable named in its configuration is not
set on this server (the entrypoint, the Helm init container and the systemd
units run the check before serving).

Every town's `billing_paymentsettings` row is read in a few UNION ALL queries (one
per 500 schemas), not one query per town. Before the first migration (no
table yet) or without a database, there is nothing to check.
"""

from __future__ import annotations

import json
import os

from django.core.checks import Error, Tags, register
from django.db import DatabaseError, connection
from django_tenants.utils import get_tenant_model

from .payments.contracts import PaymentConfigurationError
from .payments.gateway import gateway_from_settings

CHUNK = 500


def _payment_rows():
    connection.set_schema_to_public()
    towns = list(
        get_tenant_model()
        .objects.exclude(schema_name="public")
        .order_by("schema_name")
        .values_list("schema_name", "slug")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
            "WHERE c.relname = 'billing_paymentsettings'"
        )
        with_table = {r[0] for r in cursor.fetchall()}
        towns = [(schema, slug) for schema, slug in towns if schema in with_table]
        for i in range(0, len(towns), CHUNK):
            chunk = towns[i : i + CHUNK]
            sql = " UNION ALL ".join(
                f"SELECT %s, kind, options::text, secret_env::text "
                f'FROM "{schema}".billing_paymentsettings'
                for schema, _ in chunk
            )
            cursor.execute(sql, [slug for _, slug in chunk])
            yield from cursor.fetchall()


@register(Tags.security, deploy=True)
def payment_secrets_are_set(app_configs, **kwargs):
    class Row:
        def __init__(self, kind, options, secret_env):
            self.kind, self.options, self.secret_env = kind, options, secret_env

    errors = []
    try:
        rows = list(_payment_rows())
    except DatabaseError:
        return []  # no database yet (first install, image build): nothing to check
    for slug, kind, options, secret_env in rows:
        if kind == "none":
            continue
        try:
            gateway_from_settings(
                Row(kind, json.loads(options or "{}"), json.loads(secret_env or "{}")),
                environ=os.environ,
            )
        except PaymentConfigurationError as exc:
            errors.append(
                Error(
                    f"Commune « {slug} » : {exc}",
                    hint="Définissez la variable d'environnement nommée dans la configuration "
                    "de paiement de la commune (docs/operations.md).",
                    id="billing.E001",
                )
            )
    return errors
