"""Daily closing statement of the régies ("état de caisse", "bordereau de
régie"): what each régie received on a day, per means of payment, to the cent,
with every payment listed. Read-only; PDF and CSV from the same rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils import timezone

from .models import DeskPayment, Payment
from .pricing import euros

ZERO = Decimal("0.00")

# Means of payment in statement order: the desk's, then online and debits.
MEANS = [
    *DeskPayment.Means.choices,
    ("online", "carte bancaire en ligne"),
    ("direct_debit", "prélèvement"),
]
MEANS_LABELS = dict(MEANS)
MEANS_ORDER = {code: i for i, (code, _) in enumerate(MEANS)}


@dataclass
class MeansTotal:
    code: str
    label: str
    count: int = 0
    total: Decimal = ZERO


@dataclass
class RegieDay:
    code: str
    name: str
    means: dict[str, MeansTotal] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((m.total for m in self.means.values()), ZERO)

    @property
    def count(self) -> int:
        return sum(m.count for m in self.means.values())

    @property
    def means_rows(self) -> list[MeansTotal]:
        return sorted(self.means.values(), key=lambda m: MEANS_ORDER.get(m.code, 99))


@dataclass
class Statement:
    day: date
    regies: list[RegieDay]

    @property
    def total(self) -> Decimal:
        return sum((r.total for r in self.regies), ZERO)


def means_of(payment: Payment) -> str:
    if payment.desk_payment_id:
        return payment.desk_payment.means
    return payment.method


def daily_statement(day: date) -> Statement:
    """Valid payments received on `day` (town time), per régie and means.
    Two queries whatever the number of payments."""
    payments = (
        Payment.objects.filter(status=Payment.Status.VALID, paid_at__date=day)
        .select_related("invoice", "desk_payment")
        .order_by("invoice__regie_code", "paid_at", "id")
    )
    regies: dict[str, RegieDay] = {}
    for p in payments:
        regie = regies.setdefault(
            p.invoice.regie_code, RegieDay(p.invoice.regie_code, p.invoice.regie_name)
        )
        code = means_of(p)
        row = regie.means.setdefault(code, MeansTotal(code, MEANS_LABELS.get(code, code)))
        row.count += 1
        row.total += p.amount
        regie.payments.append(p)
    return Statement(day, list(regies.values()))


CSV_COLUMNS = [
    "Régie",
    "Moyen de paiement",
    "Reçu",
    "Heure",
    "Facture",
    "Payeur",
    "Numéro de chèque",
    "Banque",
    "Référence",
    "Montant (€)",
]


def csv_rows(statement: Statement):
    """One row per payment, then one subtotal per régie and means, then the
    day's total (amounts with a decimal comma: French spreadsheets)."""

    def amount(value: Decimal) -> str:
        return f"{value:.2f}".replace(".", ",")

    for regie in statement.regies:
        for p in regie.payments:
            d = p.desk_payment
            yield [
                regie.name,
                MEANS_LABELS.get(means_of(p), ""),
                p.receipt_number,
                timezone.localtime(p.paid_at).strftime("%H:%M"),
                p.invoice.number,
                p.invoice.payer_name,
                d.cheque_number if d else "",
                d.bank if d else "",
                d.reference if d else "",
                amount(p.amount),
            ]
        for m in regie.means_rows:
            yield [
                regie.name,
                f"Sous-total {m.label} ({m.count})",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                amount(m.total),
            ]
        yield [regie.name, "Total de la régie", "", "", "", "", "", "", "", amount(regie.total)]
    yield ["Toutes régies", "Total du jour", "", "", "", "", "", "", "", amount(statement.total)]


def display(statement: Statement) -> list[dict]:
    """The statement's régies with French amounts (page and PDF)."""

    return [
        {
            "r": r,
            "total": euros(r.total),
            "means": [{"m": m, "total": euros(m.total)} for m in r.means_rows],
            "payments": [
                {
                    "p": p,
                    "amount": euros(p.amount),
                    "means": MEANS_LABELS.get(means_of(p), ""),
                    "time": timezone.localtime(p.paid_at).strftime("%H:%M"),
                }
                for p in r.payments
            ],
        }
        for r in statement.regies
    ]
