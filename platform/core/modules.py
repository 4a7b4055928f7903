"""Module registry: service modules declare themselves in their AppConfig.

A service module (modules/periscolaire, ...) subclasses `ServiceModuleConfig`
and declares its code, French label, the service kinds it offers and the JSON
schema of its section in tenant_configs/<slug>.yaml. Nothing keeps a hand-made
list: the registry is read from the installed apps.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.apps import AppConfig, apps

from core.contributions import Contributor


@dataclass(frozen=True)
class ServiceKind:
    code: str  # e.g. "restauration_scolaire": the `kind` of a service in the YAML
    label: str  # French, shown to families
    booking_unit: str = "day"  # "day" or "slot" (hourly crèche care)


class ServiceModuleConfig(Contributor, AppConfig):
    """Base AppConfig of a pluggable service module. Its contribution hooks
    (core.contributions) are read only for the towns that switched it on."""

    module_code: str = ""
    module_label: str = ""
    service_kinds: tuple[ServiceKind, ...] = ()
    # JSON schema of the module's own section (`modules.<code>` in the YAML).
    config_schema: dict = {"type": "object"}

    def config_problems(self, town_config: dict, previous_config: dict | None) -> list[str]:
        """Checks a JSON schema cannot express, on the whole validated town
        configuration (and the one in force, when the town exists). Returns
        French messages, each starting with the key it is about."""
        return []

    def load_demo_data(self, commune) -> None:
        """Add this module's demo rows to a town (run inside its schema)."""

    def forget_services(self, town_config: dict, codes: set[str]) -> None:
        """Services `codes` leave `town_config` (a copy being edited in the
        back-office): drop what this module's section keeps about them (e.g.
        billing's tariffs), so that the configuration stays valid."""

    def sync_town_rows(self, town_config: dict) -> None:
        """Derive this module's rows from the town's validated configuration,
        inside its schema and onboarding's transaction (tenants.onboarding).
        Installed modules are all called, whether the town has them on or not."""


@cache
def registry() -> dict[str, ServiceModuleConfig]:
    return {
        cfg.module_code: cfg
        for cfg in apps.get_app_configs()
        if isinstance(cfg, ServiceModuleConfig)
    }


def forget_services(town_config: dict, codes: set[str]) -> None:
    """Every installed module drops what it keeps about services `codes`."""
    for module in registry().values():
        module.forget_services(town_config, codes)


def sync_town_rows(town_config: dict) -> None:
    """Every installed module derives its rows from the town's configuration."""
    for module in registry().values():
        module.sync_town_rows(town_config)


def module_codes() -> frozenset[str]:
    return frozenset(registry())


def service_kinds() -> dict[str, tuple[ServiceModuleConfig, ServiceKind]]:
    """kind code -> (its module, the kind)."""
    return {
        kind.code: (module, kind) for module in registry().values() for kind in module.service_kinds
    }
