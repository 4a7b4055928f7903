"""`manage.py check --deploy` refuses a deployment where a town's YAML switches
API Particulier on but its token's environment variable is not set on this
server, like the payment secrets (billing.checks) and FranceConnect's
(accounts.checks). One query for every town."""

from __future__ import annotations

import os

from django.core.checks import Error, Tags, register
from django.db import DatabaseError

from accounts.checks import town_configs
from families.api_particulier import configuration_problem


@register(Tags.security, deploy=True)
def api_particulier_tokens_are_set(app_configs, **kwargs):
    try:
        towns = town_configs()
    except DatabaseError:
        return []  # no database yet (first install, image build): nothing to check
    return [
        Error(
            f"Commune « {slug} » : {problem}",
            hint="Définissez la variable d'environnement nommée dans la section "
            "« api_particulier » de la configuration de la commune (docs/operations.md), "
            "ou retirez cette section.",
            id="families.E001",
        )
        for slug, config in towns
        if (problem := configuration_problem((config or {}).get("api_particulier"), os.environ))
    ]
