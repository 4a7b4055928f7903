"""`manage.py check --deploy` refuses a deployment where a town's YAML switches
FranceConnect on but its client secret's environment variable is not set on
this server (the entrypoint, the Helm init container and the systemd units run
the check before serving), like the payment secrets (billing.checks).

One query reads every town's configuration (public schema). Before the first
migration or without a database, there is nothing to check.
"""

from __future__ import annotations

import os

from django.core.checks import Error, Tags, register
from django.db import DatabaseError, connection
from django_tenants.utils import get_tenant_model

from accounts.franceconnect import configuration_problem


def town_configs():
    """(slug, validated configuration) of every town, in one query."""

    connection.set_schema_to_public()
    return list(
        get_tenant_model()
        .objects.exclude(schema_name="public")
        .order_by("slug")
        .values_list("slug", "config")
    )


@register(Tags.security, deploy=True)
def franceconnect_secrets_are_set(app_configs, **kwargs):
    try:
        towns = town_configs()
    except DatabaseError:
        return []  # no database yet (first install, image build): nothing to check
    return [
        Error(
            f"Commune « {slug} » : {problem}",
            hint="Définissez la variable d'environnement nommée dans la section "
            "« franceconnect » de la configuration de la commune (docs/operations.md), "
            "ou retirez cette section.",
            id="accounts.E001",
        )
        for slug, config in towns
        if (problem := configuration_problem((config or {}).get("franceconnect"), os.environ))
    ]
