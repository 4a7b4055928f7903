"""Opening balances taken over from a town's previous portal (issue 22): the
`soldes` file of the family import, contributed by BillingConfig's
`import_entities` hook (core.contributions) — the platform's import framework
(families.imports) never imports billing.

One line = what one household owed (a positive amount) or had in credit (a
negative amount) with one régie on the day the old portal was closed. It is
kept the way billing keeps money:
- owed: an invoice of kind « solde repris » (`Invoice.Kind.OPENING`, its own
  series S2026-000001, one line), to pay like any invoice: it counts in the
  family's amount due, online payment and the unpaid follow-up; it is never
  put in a PES batch (the previous portal titled it already);
- credit: an open `AccountCredit` (provider `reprise`), on the régie's
  over-payments page until the régie refunds or uses it.
Both appear in the accounting export as opening entries (accounting.py).

Idempotent: the source identifier is kept (`ImportedRecord`, entity `soldes`;
object_id = the invoice's id, or minus the credit's id). An unchanged line is
left alone; a changed one is refused at the dry run (an issued invoice never
changes: the régie corrects with a credit note).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from core import town_config
from core.towns import current_town
from families.import_rules import AMOUNT, DATE, TEXT, Column, Entity, Refusal, normalize_header
from families.imports import FileCheck, FileReport, Importer, known_ids, refuse_rows
from families.models import Household, ImportedRecord

from . import numbering, selectors
from .models import AccountCredit, Invoice, InvoiceLine
from .services import _payer_snapshot, town_settings

CODE = "soldes"
PROVIDER = "reprise"
ZERO = Decimal("0.00")


def _rules(values: dict, today: dt.date) -> list[tuple[str, str]]:
    out = []
    amount = values.get("montant")
    if amount is not None and amount == 0:
        out.append(("montant", "montant nul : rien à reprendre (retirez la ligne)"))
    day = values.get("date_solde")
    if day and day > today:
        out.append(("date_solde", "date du solde dans le futur"))
    return out


ENTITY = Entity(
    CODE,
    "soldes d'ouverture",
    "id_solde",
    (
        Column("id_solde", "identifiant du solde", required=True, max_length=64),
        Column("id_foyer", "identifiant du foyer", required=True, max_length=64),
        Column("montant", "montant", AMOUNT, required=True),
        Column("date_solde", "date du solde", DATE, required=True),
        Column("regie", "régie", TEXT, max_length=160),
        Column("libelle", "libellé", TEXT, max_length=160),
    ),
    parent="foyers",
    parent_column="id_foyer",
    rules=_rules,
    # A spreadsheet typed by hand (« Famille », « Solde », « Date »...).
    presets={
        "tableur": {
            "identifiant": "id_solde",
            "famille": "id_foyer",
            "foyer": "id_foyer",
            "solde": "montant",
            "date": "date_solde",
        }
    },
)


def town_regies() -> dict[str, tuple[str, str]]:
    """Normalised code or name -> (code, name) of the current town's régies."""

    _tariffs, invoicing = town_settings(current_town())
    regies = {r.code: r for r in invoicing.regies}
    for code in town_config.services(active=None).values_list("code", flat=True):
        regie = invoicing.regie_for(code)
        regies.setdefault(regie.code, regie)
    out = {}
    for regie in regies.values():
        out[normalize_header(regie.code)] = out[normalize_header(regie.name)] = (
            regie.code,
            regie.name,
        )
    return out


def _label(values: dict) -> str:
    default = f"Solde dû dans l'ancien portail au {values['date_solde']:%d/%m/%Y}"
    return (values.get("libelle") or default)[:160]


class OpeningBalanceImporter(Importer):
    entity = ENTITY
    order = 80

    def check_rows(self, checked: FileCheck, *, today: dt.date) -> None:
        regies = town_regies()
        distinct = sorted(set(regies.values()))
        names = ", ".join(name for _code, name in distinct)
        records = dict(
            ImportedRecord.objects.filter(entity=CODE).values_list("source_id", "fingerprint")
        )
        problems: dict[int, Refusal] = {}
        for row in checked.rows:
            v = row.values
            if v.get("regie"):
                regie = regies.get(normalize_header(v["regie"]))
                if regie is None:
                    problems[row.line] = Refusal.at(
                        checked, row, "regie", f"régie inconnue de la commune ; régies : {names}"
                    )
                    continue
            elif len(distinct) == 1:
                regie = distinct[0]
            else:
                problems[row.line] = Refusal.at(
                    checked,
                    row,
                    "regie",
                    f"la commune a plusieurs régies : indiquez laquelle ({names})",
                    value="",
                )
                continue
            previous = records.get(row.source_id)
            if previous is not None and previous != row.fingerprint:
                problems[row.line] = Refusal.at(
                    checked,
                    row,
                    "montant",
                    "solde déjà repris avec d'autres valeurs : une pièce émise ne change "
                    "plus, corrigez-la par un avoir dans la facturation",
                    value=str(v["montant"]).replace(".", ","),
                )
                continue
            v["_regie"] = regie
        refuse_rows(checked, problems)

    def apply(self, checked: FileCheck, report: FileReport, *, today: dt.date) -> None:
        done = set(ImportedRecord.objects.filter(entity=CODE).values_list("source_id", flat=True))
        rows = [r for r in checked.rows if r.source_id not in done]
        report.unchanged += len(checked.rows) - len(rows)
        if not rows:
            return
        households = known_ids("foyers")
        owed = [r for r in rows if r.values["montant"] > 0]
        credits = [r for r in rows if r.values["montant"] < 0]
        _tariffs, invoicing = town_settings(current_town())
        records: list[ImportedRecord] = []
        if owed:
            ids = {households[r.values["id_foyer"]] for r in owed}
            homes = Household.objects.in_bulk(ids)
            payers = selectors.payers_for_households(ids)
            numbers = numbering.opening_numbers(today.year, len(owed))
            opens, closes = invoicing.payment_window(today)
            invoices = []
            for number, row in zip(numbers, owed, strict=True):
                v = row.values
                home = homes[households[v["id_foyer"]]]
                payer = payers.get(home.pk)
                who = (
                    _payer_snapshot(payer, home)
                    if payer is not None
                    else {"payer": None, "payer_name": home.name[:170]}
                )
                invoices.append(
                    Invoice(
                        number=number,
                        kind=Invoice.Kind.OPENING,
                        regie_code=v["_regie"][0],
                        regie_name=v["_regie"][1],
                        household=home,
                        **who,
                        year=v["date_solde"].year,
                        month=v["date_solde"].month,
                        invoice_date=v["date_solde"],
                        due_date=invoicing.due_date(today),
                        payment_opens_at=opens,
                        payment_closes_at=closes,
                        total=v["montant"],
                        reason=f"Reprise de l'ancien portail ({row.source_id})"[:255],
                        status=Invoice.Status.TO_PAY,
                    )
                )
            Invoice.objects.bulk_create(invoices, batch_size=1000)
            InvoiceLine.objects.bulk_create(
                [
                    InvoiceLine(
                        invoice=invoice,
                        child=None,
                        child_name="",
                        service_code="reprise",
                        service_name=_label(row.values),
                        day=row.values["date_solde"],
                        unit="solde",
                        attendance="",
                        amount=row.values["montant"],
                    )
                    for invoice, row in zip(invoices, owed, strict=True)
                ],
                batch_size=1000,
            )
            records += [
                ImportedRecord(
                    entity=CODE, source_id=r.source_id, object_id=i.pk, fingerprint=r.fingerprint
                )
                for i, r in zip(invoices, owed, strict=True)
            ]
        if credits:
            tz = timezone.get_current_timezone()
            made = AccountCredit.objects.bulk_create(
                [
                    AccountCredit(
                        household_id=households[r.values["id_foyer"]],
                        regie_code=r.values["_regie"][0],
                        regie_name=r.values["_regie"][1],
                        amount=-r.values["montant"],
                        provider=PROVIDER,
                        transaction_id=f"{PROVIDER}:{r.source_id}"[:120],
                        received_at=dt.datetime.combine(r.values["date_solde"], dt.time(12), tz),
                        bank_data={"libelle": r.values.get("libelle", "")},
                    )
                    for r in credits
                ],
                batch_size=1000,
            )
            records += [
                ImportedRecord(
                    entity=CODE, source_id=r.source_id, object_id=-c.pk, fingerprint=r.fingerprint
                )
                for c, r in zip(made, credits, strict=True)
            ]
        ImportedRecord.objects.bulk_create(records, batch_size=1000)
        report.created += len(rows)
