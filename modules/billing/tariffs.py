"""`module_settings.billing` of a town's YAML -> pricing dataclasses (pure).

The section has already passed `BillingConfig.config_schema` (apps.py); this
module checks what a JSON schema cannot (amounts in cents, increasing QF
brackets, real dates, unique dates, service codes known to the town) and
builds `pricing.BillingSettings`. Problems are French, keyed like the YAML.

    module_settings:
      billing:
        rules:                       # every tariff, unless a version overrides
          sibling_reductions: {2: 10, 3: 20}
          non_resident_surcharge_percent: 20
          absences: {unjustified_percent: 100, late_cancellation_percent: 100, carence_days: 1}
        services:
          restauration-scolaire:     # a code from the file's `services`
            sessions_per_month: 16
            versions:
              - applies_from: "2026-09-01"
                kind: grid
                unit: repas
                grid: [{up_to: 600, price: 1.00}, {up_to: 900, price: 3.20}, {price: 4.10}]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from .pricing import (
    AbsenceRules,
    BillingSettings,
    Bracket,
    PricingError,
    ServiceTariff,
    TariffKind,
    TariffVersion,
)


class BillingConfigError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def billing_settings_from_town_config(data: Mapping) -> BillingSettings:
    """From a whole town configuration (the YAML as a dict, or Commune.config)."""
    section = data.get("module_settings", {}).get("billing", {"services": {}})
    services = {s["code"]: s["name"] for s in data.get("services", [])}
    return parse_billing_settings(section, service_names=services)


def parse_billing_settings(
    section: Mapping, *, service_names: Mapping[str, str] | Iterable[str] | None = None
) -> BillingSettings:
    """Build the town's tariffs; raise BillingConfigError listing every problem.

    service_names: the town's service codes (-> names); when given, a tariff
    for an unknown service is a problem.
    """
    if service_names is not None and not isinstance(service_names, Mapping):
        service_names = {code: "" for code in service_names}
    problems: list[str] = []
    defaults = section.get("rules", {})
    tariffs = {}
    for code, entry in section.get("services", {}).items():
        where = f"module_settings.billing.services.{code}"
        if service_names is not None and code not in service_names:
            problems.append(f"{where} : service « {code} » inconnu (voir la section `services`).")
            continue
        versions = []
        for i, raw in enumerate(entry["versions"]):
            try:
                versions.append(parse_version(raw, defaults))
            except (PricingError, ValueError) as exc:
                problems.append(f"{where}.versions[{i}] : {exc}")
        if len(versions) != len(entry["versions"]):
            continue
        versions.sort(key=lambda v: v.applies_from)
        try:
            tariffs[code] = ServiceTariff(
                service_code=code,
                versions=tuple(versions),
                label=(service_names or {}).get(code, ""),
                sessions_per_month=entry.get("sessions_per_month", 0),
            )
        except PricingError as exc:
            problems.append(f"{where} : {exc}")
    if problems:
        raise BillingConfigError(problems)
    return BillingSettings(services=tariffs)


def parse_version(raw: Mapping, defaults: Mapping) -> TariffVersion:
    """One version of a tariff (`defaults`: the section's common `rules`); raises
    PricingError or ValueError with a French message."""
    try:
        applies_from = date.fromisoformat(raw["applies_from"])
    except ValueError:
        raise PricingError(f"« {raw['applies_from']} » n'est pas une date (AAAA-MM-JJ).") from None
    absences = {**defaults.get("absences", {}), **raw.get("absences", {})}
    siblings = raw.get("sibling_reductions", defaults.get("sibling_reductions", {}))
    kind = TariffKind(raw["kind"])
    return TariffVersion(
        applies_from=applies_from,
        kind=kind,
        unit=raw.get("unit", "séance"),
        brackets=tuple(
            Bracket(up_to=b.get("up_to"), price=_money(b["price"])) for b in raw.get("grid", ())
        )
        if kind is TariffKind.GRID
        else (),
        rate_percent=_decimal(raw.get("rate_percent")),
        floor=_money(raw.get("floor")),
        ceiling=_money(raw.get("ceiling")),
        price=_money(raw.get("price")),
        sibling_reductions=tuple(sorted((int(rank), _decimal(p)) for rank, p in siblings.items())),
        non_resident_surcharge_percent=_decimal(
            raw.get(
                "non_resident_surcharge_percent", defaults.get("non_resident_surcharge_percent", 0)
            )
        ),
        absences=AbsenceRules(
            **{k: _decimal(v) if k.endswith("_percent") else v for k, v in absences.items()}
        ),
    )


def _decimal(value) -> Decimal | None:
    # YAML numbers arrive as float: str() gives their shortest form (3.2 ->
    # "3.2"), so Decimal gets the value the operator wrote, not 3.2000000001.
    return None if value is None else Decimal(str(value))


def _money(value) -> Decimal | None:
    amount = _decimal(value)
    if amount is not None and amount.as_tuple().exponent < -2:
        raise PricingError(f"{value} € : un montant a deux décimales au plus.")
    return amount
