"""Accounting journal export (issue #20, item 4): the invoices, credit notes,
payments and over-payments of a period as double-entry journal lines that a
town's finance software imports (CSV, `;`, UTF-8 with BOM, decimal comma).

Pure: `journal_lines` turns plain facts into balanced lines, `journal_rows`
into the town's columns. The town chooses its columns, headers, journal codes
and accounts in `module_settings.billing.accounting_export` (schema in
apps.py, defaults below); the columns are documented in modules/billing/README.md.

Entries (each balanced: debit = credit):
- invoice (or corrective invoice), on its date, sales journal: debit the
  customer account (the family), credit the revenue account (of its régie);
- credit note (« avoir », a negative total): the reverse;
- payment received (valid, not a test), on its day, payments journal: debit
  the account of its payment method, credit the customer account;
- over-payment kept on the family's account (« trop-perçu »), on the day it was
  received, payments journal: debit the payment method's account, credit the
  over-payment account;
- opening balance taken over from the previous portal (opening_balances.py),
  on the balance's date, opening journal (« à-nouveaux »): owed, debit the
  customer account, credit the opening account (890, « bilan d'ouverture »);
  in credit, debit the opening account, credit the over-payment account.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

ZERO = Decimal("0.00")

# Column key -> default header (French: what the finance department reads).
COLUMNS: dict[str, str] = {
    "date": "Date",
    "journal": "Journal",
    "piece": "N° de pièce",
    "account": "Compte",
    "household": "Référence famille",
    "payer": "Payeur",
    "label": "Libellé",
    "debit": "Débit",
    "credit": "Crédit",
    "method": "Mode de règlement",
    "regie": "Régie",
    "kind": "Nature de l'écriture",
}
DEFAULT_COLUMNS = (
    "date",
    "piece",
    "journal",
    "account",
    "household",
    "label",
    "debit",
    "credit",
    "method",
)
DATE_FORMATS = {"jj/mm/aaaa": "%d/%m/%Y", "aaaa-mm-jj": "%Y-%m-%d", "jjmmaaaa": "%d%m%Y"}
# Payment methods a town may give an account to: the three ways an invoice is
# paid, and the desk's means (a desk means without its own account uses "desk").
METHOD_KEYS = ("online", "direct_debit", "desk", "cash", "cheque", "cesu", "ancv", "card")
MAX_DAYS = 366
KIND_LABELS = {
    "invoice": "facture",
    "credit_note": "avoir",
    "payment": "règlement",
    "overpayment": "trop-perçu",
    "opening": "solde repris",
}


@dataclass(frozen=True)
class ExportSettings:
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    headers: dict[str, str] = field(default_factory=dict)
    sales_journal: str = "VT"
    payments_journal: str = "BQ"
    opening_journal: str = "AN"
    opening_account: str = "890"
    customer_account: str = "4111"
    revenue_account: str = "706"
    revenue_by_regie: dict[str, str] = field(default_factory=dict)
    overpayment_account: str = "4191"
    method_accounts: dict[str, str] = field(default_factory=dict)
    default_method_account: str = "515"
    date_format: str = "%d/%m/%Y"
    household_prefix: str = "F"

    def header(self, key: str) -> str:
        return self.headers.get(key) or COLUMNS[key]

    def revenue(self, regie_code: str) -> str:
        return self.revenue_by_regie.get(regie_code) or self.revenue_account

    def method_account(self, method: str, means: str = "") -> str:
        return (
            self.method_accounts.get(means)
            or self.method_accounts.get(method)
            or self.default_method_account
        )


def export_settings(section: dict | None) -> ExportSettings:
    """The town's settings from `billing.accounting_export` (already checked by
    the schema); anything absent takes its default."""
    s = section or {}
    journals, accounts = s.get("journals") or {}, s.get("accounts") or {}
    default = ExportSettings()
    return ExportSettings(
        columns=tuple(s.get("columns") or DEFAULT_COLUMNS),
        headers=dict(s.get("headers") or {}),
        sales_journal=journals.get("sales") or default.sales_journal,
        payments_journal=journals.get("payments") or default.payments_journal,
        opening_journal=journals.get("opening") or default.opening_journal,
        opening_account=accounts.get("opening") or default.opening_account,
        customer_account=accounts.get("customer") or default.customer_account,
        revenue_account=accounts.get("revenue") or default.revenue_account,
        revenue_by_regie=dict(accounts.get("revenue_by_regie") or {}),
        overpayment_account=accounts.get("overpayment") or default.overpayment_account,
        method_accounts=dict(accounts.get("methods") or {}),
        default_method_account=accounts.get("payment") or default.default_method_account,
        date_format=DATE_FORMATS.get(s.get("date_format") or "", default.date_format),
        household_prefix=s.get("household_prefix", default.household_prefix),
    )


# --- the facts (plain values, read by the selector) ---------------------------------------


@dataclass(frozen=True)
class InvoiceFact:
    number: str
    day: date
    total: Decimal  # negative for a credit note
    regie_code: str
    regie_name: str
    household_id: int
    payer_name: str
    credit_note: bool = False
    corrects: str = ""  # the invoice a credit note cancels
    opening: bool = False  # a balance owed, taken over from the previous portal


@dataclass(frozen=True)
class PaymentFact:
    receipt_number: str
    day: date
    amount: Decimal
    method: str  # online, direct_debit, desk
    method_label: str  # « chèque n° 123 (Banque Postale), à la régie »
    invoice_number: str
    regie_code: str
    regie_name: str
    household_id: int
    payer_name: str
    means: str = ""  # desk means: cash, cheque...


@dataclass(frozen=True)
class OverpaymentFact:
    reference: str
    day: date
    amount: Decimal
    method: str
    method_label: str
    regie_code: str
    regie_name: str
    household_id: int
    payer_name: str


@dataclass(frozen=True)
class Line:
    day: date
    journal: str
    piece: str
    account: str
    household: str
    payer: str
    label: str
    debit: Decimal
    credit: Decimal
    method: str
    regie: str
    kind: str


def _household(settings: ExportSettings, pk: int) -> str:
    return f"{settings.household_prefix}{pk:06d}"


def _pair(common: dict, debit_account: str, credit_account: str, amount: Decimal) -> list[Line]:
    return [
        Line(**common, account=debit_account, debit=amount, credit=ZERO),
        Line(**common, account=credit_account, debit=ZERO, credit=amount),
    ]


def journal_lines(
    settings: ExportSettings,
    invoices: list[InvoiceFact],
    payments: list[PaymentFact],
    overpayments: list[OverpaymentFact],
) -> list[Line]:
    """Balanced journal lines, by date then piece number (pure). An invoice of
    0,00 € (nothing to pay) makes no line."""
    lines: list[Line] = []
    for i in invoices:
        amount = abs(i.total).quantize(ZERO)
        if not amount:
            continue
        if i.opening:
            label, kind = f"Solde repris {i.number}", "opening"
            debit, credit = settings.customer_account, settings.opening_account
        elif i.credit_note or i.total < 0:
            label = f"Avoir {i.number}" + (f" sur facture {i.corrects}" if i.corrects else "")
            kind = "credit_note"
            debit, credit = settings.revenue(i.regie_code), settings.customer_account
        else:
            label, kind = f"Facture {i.number}", "invoice"
            debit, credit = settings.customer_account, settings.revenue(i.regie_code)
        common = {
            "day": i.day,
            "journal": settings.opening_journal if i.opening else settings.sales_journal,
            "piece": i.number,
            "household": _household(settings, i.household_id),
            "payer": i.payer_name,
            "label": f"{label} — {i.payer_name}",
            "method": "",
            "regie": i.regie_name,
            "kind": kind,
        }
        lines += _pair(common, debit, credit, amount)
    for p in payments:
        common = {
            "day": p.day,
            "journal": settings.payments_journal,
            "piece": p.receipt_number,
            "household": _household(settings, p.household_id),
            "payer": p.payer_name,
            "label": f"Règlement facture {p.invoice_number} — {p.payer_name}",
            "method": p.method_label,
            "regie": p.regie_name,
            "kind": "payment",
        }
        lines += _pair(
            common,
            settings.method_account(p.method, p.means),
            settings.customer_account,
            p.amount.quantize(ZERO),
        )
    for o in overpayments:
        if o.method == "opening":
            common = {
                "day": o.day,
                "journal": settings.opening_journal,
                "piece": o.reference,
                "household": _household(settings, o.household_id),
                "payer": o.payer_name,
                "label": f"Solde créditeur repris — {o.payer_name}",
                "method": "",
                "regie": o.regie_name,
                "kind": "opening",
            }
            lines += _pair(common, settings.opening_account, settings.overpayment_account, o.amount)
            continue
        common = {
            "day": o.day,
            "journal": settings.payments_journal,
            "piece": o.reference,
            "household": _household(settings, o.household_id),
            "payer": o.payer_name,
            "label": f"Trop-perçu — {o.payer_name}",
            "method": o.method_label,
            "regie": o.regie_name,
            "kind": "overpayment",
        }
        lines += _pair(
            common,
            settings.method_account(o.method),
            settings.overpayment_account,
            o.amount.quantize(ZERO),
        )
    order = {"opening": 0, "invoice": 0, "credit_note": 0, "payment": 1, "overpayment": 2}
    lines.sort(key=lambda x: (x.day, order[x.kind], x.piece))
    return lines


def french_amount(value: Decimal) -> str:
    """12.5 -> « 12,50 »; zero -> « 0,00 » (no thousands separator: importable)."""
    return f"{value.quantize(ZERO):.2f}".replace(".", ",")


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _text(value: str) -> str:
    """One line of text: line breaks and control characters become a space."""
    return _CONTROL.sub(" ", value or "").strip()


def journal_rows(settings: ExportSettings, lines: list[Line]) -> tuple[list[str], list[list]]:
    """(headers, rows) in the town's columns; amounts with a decimal comma."""
    headers = [settings.header(k) for k in settings.columns]
    rows = []
    for line in lines:
        values = {
            "date": line.day.strftime(settings.date_format),
            "journal": line.journal,
            "piece": line.piece,
            "account": line.account,
            "household": line.household,
            "payer": _text(line.payer),
            "label": _text(line.label),
            "debit": french_amount(line.debit),
            "credit": french_amount(line.credit),
            "method": _text(line.method),
            "regie": _text(line.regie),
            "kind": KIND_LABELS[line.kind],
        }
        rows.append([values[k] for k in settings.columns])
    return headers, rows


def totals(lines: list[Line]) -> tuple[Decimal, Decimal]:
    return (sum((x.debit for x in lines), ZERO), sum((x.credit for x in lines), ZERO))


# --- the period ---------------------------------------------------------------------------

_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


class PeriodError(ValueError):
    pass


def _day(value: str, what: str) -> date:
    match = _DAY.fullmatch((value or "").strip())
    try:
        if not match:
            raise ValueError
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise PeriodError(f"La date {what} n'est pas une date valide (ex. 2026-11-30).") from None


def period_from(mois: str = "", du: str = "", au: str = "") -> tuple[date, date]:
    """A month « 2026-11 » or a range du/au (inclusive, at most a year); French
    PeriodError otherwise (pure)."""
    if du or au:
        if not (du and au):
            raise PeriodError("Indiquez la date de début et la date de fin.")
        start, end = _day(du, "de début"), _day(au, "de fin")
        if end < start:
            raise PeriodError("La date de fin est avant la date de début.")
        if (end - start).days >= MAX_DAYS:
            raise PeriodError("Choisissez une période d'un an au plus.")
        return start, end
    match = _MONTH.fullmatch((mois or "").strip())
    if not match or not (1 <= int(match[2]) <= 12 and 2000 <= int(match[1]) <= 2100):
        raise PeriodError("Choisissez un mois (ex. 2026-11).")
    year, month = int(match[1]), int(match[2])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def file_stamp(start: date, end: date) -> str:
    if start.day == 1 and end == start.replace(day=1) + timedelta(
        days=calendar.monthrange(start.year, start.month)[1] - 1
    ):
        return f"{start:%Y-%m}"
    return f"{start:%Y-%m-%d}_{end:%Y-%m-%d}"
