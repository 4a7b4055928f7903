"""Test helpers: a town's configuration is changed the way the product changes
it, through `tenants.services.apply_town_config` (validation, version, derived
rows in the same transaction: decisions/0006), never by writing rows or the
stored document directly."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection

from core.town_config import editable
from tenants.models import Commune
from tenants.services import apply_town_config, with_modules


def edit_town_config(
    commune: Commune, change: Callable[[dict], object] | dict, *, message: str = "test"
) -> Commune:
    """Apply `change` to a copy of the town's document (a function that edits
    the dict in place, or a dict of top-level sections to set) and apply it;
    `commune` is updated in place and returned. Raises ConfigError when the
    result is not a valid configuration."""
    data = editable(commune)
    if callable(change):
        change(data)
    else:
        data.update(change)
    apply_town_config(commune=commune, data=data, message=message, source="test")
    return commune


def set_family_changes(commune, **modes) -> None:
    """Give a town `family_changes` settings (in the test's transaction),
    through the configuration's one write path (decisions/0006)."""
    connection.set_schema_to_public()
    edit_town_config(commune, {"family_changes": modes})
    connection.set_schema_to_public()


def service_options(code: str, **changes) -> Callable[[dict], None]:
    """A change for edit_town_config: service `code`'s `options` get `changes`
    (a None value removes the key)."""

    def change(data: dict) -> None:
        service = next(s for s in data["services"] if s["code"] == code)
        options = service.setdefault("options", {})
        for key, value in changes.items():
            if value is None:
                options.pop(key, None)
            else:
                options[key] = value

    return change


def services_restored(before: dict) -> Callable[[dict], None]:
    """A change for edit_town_config: the `services` of `before` (a copy of
    the document taken earlier) are back."""

    def change(data: dict) -> None:
        data["services"] = before["services"]

    return change


def module_switched_off(code: str) -> Callable[[dict], None]:
    """A change for edit_town_config: module `code` switched off as the
    back-office's modules page does it (tenants.services.with_modules); billing
    goes with the town's online payment (« aucun »)."""

    def change(data: dict) -> None:
        with_modules(data, [m for m in data["modules"] if m != code])
        if code == "billing":
            data["payment"] = {"provider": "none"}

    return change
