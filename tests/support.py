"""Helpers shared by fixtures (importable as `tests.support`)."""

from django.conf import settings
from django.db import connection

# Towns onboarded once per test session from their real YAML files.
SESSION_TOWNS = ("castres", "bondoufle")


def onboard_session_towns() -> None:
    from tenants.models import Commune
    from tenants.onboarding import onboard_files

    connection.set_schema_to_public()
    present = set(Commune.objects.filter(slug__in=SESSION_TOWNS).values_list("slug", flat=True))
    missing = [s for s in SESSION_TOWNS if s not in present]
    if missing:
        onboard_files([settings.TENANT_CONFIGS_DIR / f"{s}.yaml" for s in missing])
    connection.set_schema_to_public()


# Committed rows from helper threads: core.testing (shared with the apps' testing.py).
from core.testing import in_own_connection, run_in_threads  # noqa: E402, F401
