"""Changing a town's configuration after onboarding: ONE write path.

The configuration's source of truth is the YAML-shaped dict in
`Commune.config`. The back-office, the operator console and the command all
edit a copy of that dict and hand it to `apply_town_config`, which validates it
with tenants.config (JSON schema + semantic checks + each module's hook) and
applies it through tenants.onboarding (one transaction, all-or-nothing). Every
applied change writes a `ConfigVersion` (who, when, what), so any version can
be compared, exported back to YAML or restored.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass

import yaml
from django.db import connection

from core.modules import forget_services, service_kinds
from tenants.config import ConfigError, Problem, TownConfig, parse_yaml, validate
from tenants.models import Commune, ConfigVersion
from tenants.onboarding import onboard_commune


@dataclass(frozen=True)
class Actor:
    """Who applied a change. Town staff live in their town's schema, operators
    in the public one: the id alone would be ambiguous."""

    display: str
    id: int | None = None
    schema: str = ""

    @classmethod
    def of(cls, user, schema: str) -> Actor:
        if user is None or not getattr(user, "is_authenticated", False):
            return cls("système")
        name = user.get_full_name().strip() or user.get_username()
        return cls(f"{name} ({user.get_username()})", user.pk, schema)


SYSTEM = Actor("commande onboard_commune")


def apply_town_config(
    *,
    commune: Commune,
    data: dict,
    actor: Actor | None = None,
    message: str = "",
    source: str = "gestion",
):
    """Validate `data` (a whole YAML-shaped configuration) and apply it to
    `commune`. Raises ConfigError (French problems with keys) and writes nothing
    when anything is wrong. Returns tenants.onboarding.OnboardResult."""

    data = copy.deepcopy(data)
    # A town's identity is its path and INSEE code: the back-office never moves them.
    for key in ("slug", "insee_code"):
        if data.get(key) != getattr(commune, key):
            raise ConfigError(
                source,
                [Problem(key, f"ne peut pas être modifié ici (« {getattr(commune, key)} »).")],
            )
    previous = connection.tenant
    try:
        config = validate(data, source=source)
        result = onboard_commune(config=config, actor=actor, message=message, source=source)
    finally:
        # onboarding works from the public schema; the caller (a town's
        # back-office view) carries on in its own schema.
        if getattr(previous, "schema_name", "public") != "public":
            connection.set_tenant(previous)
    _refresh(commune, result.commune)
    return result


def with_modules(data: dict, modules: list[str]) -> dict:
    """`data` (a copy of a town's document, changed in place and returned) with
    only `modules` on. A module switched off takes its services with it (their
    rows are switched off, never deleted: onboarding) and its settings; the
    history keeps them for a later restore. Online payment is left as it is:
    without billing, the validation asks for « aucun »."""
    data["modules"] = list(modules)
    kinds = service_kinds()
    kept = [
        s
        for s in data.get("services", [])
        if kinds.get(s["kind"], (None,))[0] is None
        or kinds[s["kind"]][0].module_code in data["modules"]
    ]
    dropped = {s["code"] for s in data.get("services", [])} - {s["code"] for s in kept}
    data["services"] = kept
    if dropped:
        forget_services(data, dropped)  # e.g. billing's tariffs of those services
    data["module_settings"] = {
        k: v for k, v in (data.get("module_settings") or {}).items() if k in data["modules"]
    }
    if not data["module_settings"]:
        data.pop("module_settings", None)
    return data


def record_version(
    *, commune: Commune, config: TownConfig, actor: Actor | None, message: str, source: str
) -> ConfigVersion:
    """Called by tenants.onboarding inside its transaction (commune row locked)."""
    actor = actor or SYSTEM
    last = (
        ConfigVersion.objects.filter(commune=commune)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return ConfigVersion.objects.create(
        commune=commune,
        number=(last or 0) + 1,
        data=config.data,
        digest=config.digest,
        actor_display=actor.display[:160],
        actor_id=actor.id,
        actor_schema=actor.schema,
        source=source[:40],
        message=message[:255],
    )


def restore_version(*, version: ConfigVersion, actor: Actor | None):
    return apply_town_config(
        commune=version.commune,
        data=version.data,
        actor=actor,
        message=f"Restauration de la version {version.number}",
        source="restauration",
    )


# --- YAML export ---------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def export_yaml(data: dict) -> str:
    """The configuration in tenant_configs/<slug>.yaml format. Re-reading it
    gives back the same dict, hence the same digest (tests/test_backoffice_config.py)."""
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    header = f"# {data.get('name', '')} — configuration exportée par Guichet Famille.\n"
    return header + body


def reimport(text: str, *, source: str) -> TownConfig:
    return validate(parse_yaml(text, source=source), source=source)


def diff_versions(old: dict | None, new: dict) -> list[str]:
    """Unified diff of the two versions' YAML, line by line."""
    before = export_yaml(old).splitlines() if old else []
    return list(
        difflib.unified_diff(
            before, export_yaml(new).splitlines(), "avant", "après", lineterm="", n=2
        )
    )


def _refresh(target: Commune, source: Commune) -> None:
    for field in (
        "name",
        "config",
        "config_digest",
        "enabled_modules",
        "department",
        "department_code",
        "website",
        "contact_label",
        "contact_phone",
        "contact_email",
        "contact_address",
    ):
        setattr(target, field, getattr(source, field))
