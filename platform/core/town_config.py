"""A town's configuration, read through ONE selector per section (decisions/0006).

The truth is the YAML-shaped document `Commune.config` (public schema; every
applied version is kept in `tenants.ConfigVersion`). tenants.onboarding derives,
in the same transaction as each applied version, a copy of some sections:
columns of the town's public row, rows of its schema. A section with a derived
copy is read from that copy, never from the document; a section without one is
read from the document, through `section()`:

- name, insee_code, department, website, contact: columns of the `Commune`
  row (`name`, `department_code`, `contact_label`...): the town's attributes;
- contact + contacts: `core.Contact` rows, the main contact first: `contacts()`;
- modules: `Commune.enabled_modules`: `enabled_modules()`, `has_module()`;
- aliases: `tenants.Domain` rows: the routing (portal.routing);
- services: `core.Service` rows (+ booking's sites and activities): `services()`;
- payment: `billing.PaymentSettings` (BillingConfig.sync_town_rows):
  `billing.selectors.payment_settings()`;
- every other section: no copy: `section()`, `module_settings()`.

The configuration editors (the back-office's configuration pages, the operator
console) produce the next version: they take a copy of the whole document with
`editable()` and hand it back to `tenants.services.apply_town_config`.
`platform/core/tests/test_one_configuration_truth.py` fails on any other read of
the document, on a read of a derived section from it, and on a write to a
derived row outside the derivation.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from django.db import connection

from core.towns import config_of_schema

# Sections with a derived copy: read the copy (table above), never the document.
DERIVED_SECTIONS = frozenset(
    {
        "name",
        "insee_code",
        "department",
        "website",
        "contact",
        "contacts",
        "modules",
        "aliases",
        "services",
        "payment",
    }
)


def _document(commune) -> Mapping:
    """The town's applied document ({} for none). Without a town object, the
    connection's: a request's town, or the schema a Celery task runs in."""
    if commune is None:
        commune = getattr(connection, "tenant", None)
    config = getattr(commune, "config", None)
    if isinstance(config, dict):
        return config
    schema = getattr(commune, "schema_name", None) or connection.schema_name
    if not schema or schema == "public":
        return {}
    return config_of_schema(schema)


def section(commune, name: str, default=None):
    """A section without a derived copy (`email_templates`, `identity`,
    `family_changes`, `data_protection`, `accounts`, `school_holiday_zone`,
    `franceconnect`, `api_particulier`, `module_settings`...), or `default`.
    Read-only: edit a copy from `editable()` instead."""
    if name in DERIVED_SECTIONS:
        raise LookupError(
            f"« {name} » a une copie dérivée : lisez-la par son sélecteur (core.town_config)."
        )
    value = _document(commune).get(name)
    return default if value is None else value


def module_settings(commune, code: str) -> dict:
    """A module's own section (`module_settings.<code>`), {} when absent."""
    return (section(commune, "module_settings") or {}).get(code) or {}


def enabled_modules(commune) -> tuple[str, ...]:
    """The modules the town has switched on (`modules`, derived column)."""
    return tuple(getattr(commune, "enabled_modules", None) or ())


def has_module(commune, code: str) -> bool:
    return code in enabled_modules(commune)


def services(*, module=None, modules=None, kind=None, codes=None, active: bool | None = True):
    """The town's services (`services`, derived `core.Service` rows, in the
    configuration's order), in the current schema. `active=None`: retired
    services too (rows are switched off, never deleted)."""
    from core.models import Service  # models: not importable while apps load

    rows = Service.objects.all()
    if active is not None:
        rows = rows.filter(is_active=active)
    if module is not None:
        rows = rows.filter(module=module)
    if modules is not None:
        rows = rows.filter(module__in=list(modules))
    if kind is not None:
        rows = rows.filter(kind=kind)
    if codes is not None:
        rows = rows.filter(code__in=list(codes))
    return rows


def contacts():
    """The town's desks (`contact` first, then `contacts`: derived
    `core.Contact` rows), in the current schema."""
    from core.models import Contact  # models: not importable while apps load

    return Contact.objects.all()


def editable(commune) -> dict:
    """A deep copy of the whole document, for the configuration editors only
    (back-office configuration pages, console): they change it and hand it to
    tenants.services.apply_town_config, which validates, versions and derives."""
    return copy.deepcopy(dict(_document(commune)))
