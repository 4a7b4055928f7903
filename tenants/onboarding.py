"""Onboarding a town from its validated configuration: the one write path used
by `manage.py onboard_commune` and the operator console.

All-or-nothing: the public rows, the town's schema (replayed from the town
template, or migrated when the template is stale: tenants/template.py) and its
configuration rows are written in ONE transaction; any failure leaves the
database as it was.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django_tenants.utils import tenant_context

from booking.catalogue import sync_activities
from core.models import Contact, Service
from core.modules import service_kinds, sync_town_rows
from core.towns import towns_changed
from tenants import console
from tenants.config import (
    ConfigError,
    Problem,
    TownConfig,
    check_no_duplicates,
    load_file,
    parse_yaml,
    validate,
)
from tenants.models import Commune, Domain
from tenants.template import save_new_town

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnboardResult:
    commune: Commune
    created: bool
    changed: bool
    seconds: float

    def summary(self) -> str:
        state = "créée" if self.created else ("mise à jour" if self.changed else "inchangée")
        return f"{self.commune.name} (/{self.commune.slug}/) : {state} en {self.seconds:.2f} s"


def onboard_commune(
    *, config: TownConfig, actor=None, message: str = "", source: str = "commande"
) -> OnboardResult:
    started = time.perf_counter()
    connection.set_schema_to_public()
    with transaction.atomic():
        commune = Commune.objects.select_for_update().filter(slug=config.slug).first()
        created = commune is None
        if not created and commune.config_digest == config.digest:
            return OnboardResult(commune, False, False, time.perf_counter() - started)
        if created:
            commune = Commune(schema_name=config.schema_name, slug=config.slug)
        _apply_identity(commune, config)
        if created:
            # Schema from the migrated template's script (tenants/template.py),
            # or by migrations when the template is stale; in this transaction.
            save_new_town(commune)
        else:
            commune.save(verbosity=0)
        _sync_domains(commune, config)
        with tenant_context(commune):
            _sync_town_rows(config)
        # Every applied change is versioned (who, when, what): tenants.services.
        # tenants.services imports this module at load time: imported when called (no cycle).
        from tenants.services import record_version

        record_version(
            commune=commune,
            config=config,
            actor=actor,
            message=message or ("Intégration" if created else "Mise à jour"),
            source=source,
        )
    connection.set_schema_to_public()
    _forget_cached_route()
    result = OnboardResult(commune, created, True, time.perf_counter() - started)
    log.info(
        "onboarding",
        extra={"commune": commune.slug, "new_town": created, "seconds": round(result.seconds, 3)},
    )
    return result


def onboard_files(paths: list[Path | str]) -> list[OnboardResult]:
    """Validate every file first: one bad file means none is applied."""
    configs = [load_file(p) for p in paths]
    check_no_duplicates(configs)
    return [onboard_commune(config=c) for c in configs]


def onboard_yaml_text(text: str, *, source: str, actor=None) -> OnboardResult:
    """The operator console's upload: same validation, same write path."""
    return onboard_data(
        parse_yaml(text, source=source), source=source, actor=actor, message=f"Fichier {source}"
    )


def onboard_data(
    data: dict,
    *,
    source: str,
    actor=None,
    message: str = "",
    new_only: bool = False,
    first_admin: dict | None = None,
) -> OnboardResult:
    """The operator console (YAML upload or form): a configuration dict, validated
    like a file, then onboard_commune. `new_only` (the form): an existing slug is
    refused, never updated. `first_admin` ({email, first_name, last_name}) is
    invited in the SAME transaction: a failed invitation leaves no town behind."""
    problems = []
    existing = Commune.objects.filter(slug=data.get("slug")).first() if new_only else None
    try:
        config = validate(data, source=source)
    except ConfigError as exc:
        problems = list(exc.problems)
    if existing and not any(p.key == "slug" for p in problems):
        problems.insert(0, Problem("slug", _TAKEN.format(slug=existing.slug, name=existing.name)))
    if problems:
        raise ConfigError(source, problems)
    try:
        with transaction.atomic():
            result = onboard_commune(config=config, actor=actor, message=message, source="console")
            if new_only and not result.created:  # another operator was faster
                raise ConfigError(
                    source,
                    [
                        Problem(
                            "slug",
                            _TAKEN.format(slug=result.commune.slug, name=result.commune.name),
                        )
                    ],
                )
            if first_admin:
                console.invite_town_admin(commune=result.commune, **first_admin)
    except console.InviteError as exc:
        raise ConfigError(source, [Problem("admin_email", str(exc))]) from None
    except IntegrityError:  # same slug or schema created concurrently
        raise ConfigError(
            source,
            [Problem("slug", f"« {config.slug} » vient d'être pris par une autre intégration.")],
        ) from None
    finally:
        connection.set_schema_to_public()
        _forget_cached_route()
    return result


_TAKEN = (
    "« {slug} » est déjà le chemin de la commune « {name} » : on n'intègre ici qu'une nouvelle "
    "commune (une commune existante se modifie par son fichier YAML ou son back-office)."
)


def set_status(commune: Commune, status: str) -> None:
    """Suspend or resume a town. Nothing is deleted."""
    Commune.objects.filter(pk=commune.pk).update(status=status)
    commune.status = status
    _forget_cached_route()


# --- internals ----------------------------------------------------------


def _apply_identity(commune: Commune, config: TownConfig) -> None:
    d = config.data
    contact = d["contact"]
    commune.name = d["name"]
    commune.insee_code = d["insee_code"]
    commune.department = d["department"]["name"]
    commune.department_code = d["department"]["code"]
    commune.website = d.get("website", "")
    commune.contact_label = contact["label"]
    commune.contact_phone = contact.get("phone", "")
    commune.contact_email = contact.get("email", "")
    commune.contact_address = contact.get("address", "")
    commune.enabled_modules = list(d["modules"])
    commune.config = d
    commune.config_digest = config.digest


def _sync_domains(commune: Commune, config: TownConfig) -> None:
    wanted = {config.slug: True} | {a.lower(): False for a in config.data.get("aliases", [])}
    Domain.objects.filter(tenant=commune).exclude(domain__in=wanted).delete()
    for path, primary in wanted.items():
        Domain.objects.update_or_create(
            domain=path, defaults={"tenant": commune, "is_primary": primary}
        )


def _sync_town_rows(config: TownConfig) -> None:
    d = config.data
    Contact.objects.all().delete()
    Contact.objects.bulk_create(
        Contact(
            position=i, **{k: c.get(k, "") for k in ("label", "phone", "email", "address", "hours")}
        )
        for i, c in enumerate([d["contact"], *d.get("contacts", [])])
    )
    kinds = service_kinds()
    codes = []
    for i, s in enumerate(d["services"]):
        codes.append(s["code"])
        Service.objects.update_or_create(
            code=s["code"],
            defaults={
                "name": s["name"],
                "kind": s["kind"],
                "module": kinds[s["kind"]][0].module_code,
                "description": s.get("description", ""),
                "deadlines": s.get("deadlines", {}),
                "options": s.get("options", {}),
                "is_active": True,
                "position": i,
            },
        )
    # A service removed from the file is switched off, never deleted: bookings
    # and invoices may point at it.
    Service.objects.exclude(code__in=codes).update(is_active=False)
    # Sites and activities (places per day, eligibility) from services[].options.
    sync_activities()
    # Each installed module derives its own rows (billing: PaymentSettings).
    sync_town_rows(d)


def _forget_cached_route() -> None:
    towns_changed.send(sender=None)  # portal.routing's cache listens
