"""`accounts` is both a shared app (operators' accounts in the public schema)
and a town app. Its activation keys point at `families.Adult`, a town-only
table, so they are created in town schemas only. Listed before django-tenants'
TenantSyncRouter, which decides everything else."""

from django.db import connection
from django_tenants.utils import get_public_schema_name

TOWN_ONLY_MODELS = frozenset({("accounts", "activationkey")})


class TownOnlyModelsRouter:
    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if (
            app_label,
            model_name,
        ) in TOWN_ONLY_MODELS and connection.schema_name == get_public_schema_name():
            return False
        return None
