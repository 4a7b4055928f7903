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
        paths = [settings.TENANT_CONFIGS_DIR / f"{s}.yaml" for s in missing]
        if _all_modules_installed(paths):
            onboard_files(paths)
        else:  # a process without some module (tests/test_module_removal.py)
            from tenants.onboarding import onboard_data

            for path in paths:
                data = _installed_modules_only(_read_yaml(path))
                onboard_data(data, source=path.name, message="Tests sans module")
    connection.set_schema_to_public()


def _read_yaml(path) -> dict:
    from tenants.config import parse_yaml

    return parse_yaml(path.read_text(encoding="utf-8"), source=path.name)


def _all_modules_installed(paths) -> bool:
    from core.modules import module_codes

    return all(set(_read_yaml(p).get("modules", [])) <= module_codes() for p in paths)


def _installed_modules_only(data: dict) -> dict:
    """The town's configuration as it would be without the modules this process
    lacks: their codes, services and sections removed (what a town admin
    switching them off in the back-office does, backoffice.views.config_modules)."""
    from core.modules import forget_services, module_codes, service_kinds

    codes, kinds = module_codes(), service_kinds()
    data["modules"] = [m for m in data.get("modules", []) if m in codes]
    dropped = {s["code"] for s in data["services"] if s["kind"] not in kinds}
    data["services"] = [s for s in data["services"] if s["kind"] in kinds]
    forget_services(data, dropped)
    settings_ = {k: v for k, v in (data.get("module_settings") or {}).items() if k in codes}
    data.pop("module_settings", None)
    if settings_:
        data["module_settings"] = settings_
    if "billing" not in codes:  # online payment is billing's (tenants.config)
        data["payment"] = {"provider": "none"}
    return data


# Committed rows from helper threads: core.testing (shared with the apps' testing.py).
from core.testing import in_own_connection, run_in_threads  # noqa: E402, F401
