"""The invoicing side of `module_settings.billing` (pure: YAML dict -> dataclasses).

    module_settings:
      billing:
        invoicing:
          payment_days: 22            # due date = invoice date + 22 days
          online_payment_opens_at: "09:30"
          e_invoice: true             # the town offers « adhésion à la facture en ligne »
          how_to_pay: "..."           # printed on the invoice
        regies:                       # default: one régie per service module
          - {code: enfance, name: Régie Enfance, services: [restauration-scolaire, ...]}
        direct_debit:                 # absent: no direct debit in this town
          creditor_name: Ville de Chalonnes-sur-Loire
          creditor_id: FR72ZZZ123456  # ICS
          iban: FR76...
          bic: BDFEFRPP
          starts: september           # or next_invoice

Example (Castres's guide): invoices dated 08/11 are payable online "du 08/11
09:30 au 30/11 23:59": invoice date + `online_payment_opens_at`, then the due
date at 23:59.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.modules import service_kinds

from .sepa import Creditor, SepaError, validate_creditor_id, validate_iban

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_PAYMENT_DAYS = 30
DEFAULT_HOW_TO_PAY = (
    "Par carte bancaire sur le portail famille (rubrique « Mes factures »), "
    "par prélèvement automatique si vous y avez adhéré, ou auprès de la régie "
    "(chèque à l'ordre du Trésor public, espèces)."
)
MODULE_LABELS = {
    "periscolaire": "Régie scolaire et périscolaire",
    "alsh": "Régie accueils de loisirs",
    "petite_enfance": "Régie petite enfance",
}


@dataclass(frozen=True)
class Regie:
    code: str
    name: str
    services: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DirectDebitSettings:
    creditor: Creditor
    starts: str = "next_invoice"  # or "september" (Chalonnes: from the September invoice)

    def applies_from(self, signed_on: date) -> date:
        """First invoiced month (its 1st day) a new mandate pays.

        next_invoice: the month being consumed now (invoiced at its end).
        september: Chalonnes's guide, « applies from the September invoice »:
        the next September (this one if signed before September).
        """
        if self.starts == "september":
            # Signed in September or later: the school year has begun, the
            # opt-in waits for the next one (our reading of the guide).
            year = signed_on.year if signed_on.month < 9 else signed_on.year + 1
            return date(year, 9, 1)
        return date(signed_on.year, signed_on.month, 1)


@dataclass(frozen=True)
class InvoicingSettings:
    payment_days: int = DEFAULT_PAYMENT_DAYS
    online_payment_opens_at: time = time(0, 0)
    e_invoice: bool = False
    how_to_pay: str = DEFAULT_HOW_TO_PAY
    regies: tuple[Regie, ...] = ()
    direct_debit: DirectDebitSettings | None = None
    # service code -> régie, for services no explicit régie lists
    module_of_service: Mapping[str, str] = field(default_factory=dict)
    # service code -> quantity billed per booking (9 hours for a crèche day
    # priced by the hour); 1 when absent
    quantities: Mapping[str, Decimal] = field(default_factory=dict)

    def regie_for(self, service_code: str) -> Regie:
        for regie in self.regies:
            if service_code in regie.services:
                return regie
        module = self.module_of_service.get(service_code, "services")
        return Regie(
            code=module.replace("_", "-"), name=MODULE_LABELS.get(module, "Régie municipale")
        )

    def due_date(self, invoice_date: date) -> date:
        return invoice_date + timedelta(days=self.payment_days)

    def payment_window(self, invoice_date: date) -> tuple[datetime, datetime]:
        """Online payment: from the invoice date at the opening time to the due date 23:59."""
        opens = datetime.combine(invoice_date, self.online_payment_opens_at, tzinfo=PARIS)
        closes = datetime.combine(self.due_date(invoice_date), time(23, 59, 59), tzinfo=PARIS)
        return opens, closes


class InvoicingConfigError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def invoicing_settings_from_town_config(data: Mapping) -> InvoicingSettings:
    section = data.get("module_settings", {}).get("billing", {}) or {}
    services = {s["code"]: s for s in data.get("services", [])}

    kinds = service_kinds()
    module_of_service = {
        code: (kinds[s["kind"]][0].module_code if s["kind"] in kinds else "services")
        for code, s in services.items()
    }
    return parse_invoicing_settings(
        section, service_codes=set(services), module_of_service=module_of_service
    )


def parse_invoicing_settings(
    section: Mapping,
    *,
    service_codes: set[str] | None = None,
    module_of_service: Mapping[str, str] | None = None,
) -> InvoicingSettings:
    problems: list[str] = []
    inv = section.get("invoicing", {}) or {}
    opens = time(0, 0)
    if "online_payment_opens_at" in inv:
        try:
            opens = time.fromisoformat(inv["online_payment_opens_at"])
        except ValueError:
            problems.append("invoicing.online_payment_opens_at : heure attendue au format HH:MM.")
    regies, seen = [], set()
    for i, raw in enumerate(section.get("regies", []) or []):
        for code in raw.get("services", []):
            if service_codes is not None and code not in service_codes:
                problems.append(f"regies[{i}].services : service « {code} » inconnu.")
            if code in seen:
                problems.append(f"regies[{i}].services : « {code} » est déjà dans une autre régie.")
            seen.add(code)
        regies.append(
            Regie(code=raw["code"], name=raw["name"], services=frozenset(raw.get("services", [])))
        )
    codes = [r.code for r in regies]
    if len(codes) != len(set(codes)):
        problems.append("regies : deux régies ont le même code.")
    debit = None
    dd = section.get("direct_debit")
    if dd:
        try:
            validate_creditor_id(dd["creditor_id"])
            validate_iban(dd["iban"])
            debit = DirectDebitSettings(
                creditor=Creditor(
                    name=dd["creditor_name"],
                    iban=dd["iban"],
                    bic=dd["bic"],
                    creditor_id=dd["creditor_id"],
                ),
                starts=dd.get("starts", "next_invoice"),
            )
        except SepaError as exc:
            problems.append(f"direct_debit : {exc}")
    if problems:
        raise InvoicingConfigError(problems)
    return InvoicingSettings(
        payment_days=inv.get("payment_days", DEFAULT_PAYMENT_DAYS),
        online_payment_opens_at=opens,
        e_invoice=bool(inv.get("e_invoice", False)),
        how_to_pay=inv.get("how_to_pay", DEFAULT_HOW_TO_PAY),
        regies=tuple(regies),
        direct_debit=debit,
        module_of_service=dict(module_of_service or {}),
        quantities={
            code: Decimal(str(entry["quantity_per_booking"]))
            for code, entry in (section.get("services") or {}).items()
            if entry.get("quantity_per_booking")
        },
    )
