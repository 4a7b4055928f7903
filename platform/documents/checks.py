"""`manage.py check --deploy` refuses a production without its own vault key."""

from django.conf import settings
from django.core.checks import Error, Tags, register

DEV_KEY = "dev-only-vault-master-key-change-me-in-production"


@register(Tags.security, deploy=True)
def vault_master_key(app_configs, **kwargs):
    key = settings.VAULT_MASTER_KEY
    if key == DEV_KEY or len(key) < 32:
        return [
            Error(
                "VAULT_MASTER_KEY doit être défini (32 caractères au moins, aléatoires) "
                "en production.",
                hint="python -c 'import secrets; print(secrets.token_urlsafe(48))' ; "
                "à sauvegarder à part : le perdre rend illisibles tous les coffres-forts.",
                id="documents.E001",
            )
        ]
    return []
