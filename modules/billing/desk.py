"""Payments at the régie's desk (cash, cheque, CESU, ANCV chèques vacances,
card on the desk terminal), entered by staff.

- One desk payment (`DeskPayment`) is money handed over once; staff allocate
  it explicitly to one or more invoices of the household (one `Payment` row per
  invoice). One cheque may settle several invoices.
- Its reference (cheque number, bank, ticket) is its own data, never a
  provider transaction id: the allocations' transaction id is our receipt
  number. Typing a cheque number already seen is allowed, with a warning.
- The form carries an idempotency key: a double submit (two clicks, a
  reloaded page, two requests racing) records ONE desk payment; the second
  gets the first one back (`created=False`).
- A receipt is issued (number R<year>-NNNNNN; each allocation -1, -2...), the
  family's invoices show the payment at once (the same rows), and the act is
  written to the family's history (who, when, why).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from families import history

from . import numbering
from .french import moment_label
from .models import DeskPayment, Invoice, Payment
from .pricing import euros
from .services import BillingValidationError, _queue_receipt, _refresh_state

CENT = Decimal("0.01")


@dataclass
class DeskOutcome:
    desk_payment: DeskPayment
    created: bool
    warnings: list[str] = field(default_factory=list)


def _amount(raw) -> Decimal | None:
    try:
        value = Decimal(str(raw).replace(",", ".").replace("\u202f", "").replace(" ", ""))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value != value.quantize(CENT):
        return None
    return value


def allocation_problems(
    *, means: str, cheque_number: str, bank: str, allocations: dict[Invoice, Decimal | None]
) -> dict[str, str]:
    """Field -> French message; empty when the desk payment may be recorded.
    Pure: `allocations` maps each invoice (already locked) to the amount typed."""
    errors: dict[str, str] = {}
    if means not in DeskPayment.Means.values:
        errors["means"] = "Choisissez le moyen de paiement."
    if means == DeskPayment.Means.CHEQUE:
        if not cheque_number.strip():
            errors["cheque_number"] = "Indiquez le numéro du chèque."
        if not bank.strip():
            errors["bank"] = "Indiquez la banque du chèque."
    if not any(a for a in allocations.values()):
        errors["allocations"] = "Indiquez le montant affecté à au moins une facture."
    for invoice, amount in allocations.items():
        key = f"invoice_{invoice.pk}"
        if amount is None:
            errors[key] = f"Facture {invoice.number} : montant en euros attendu (ex. 12,50)."
        elif amount < 0:
            errors[key] = f"Facture {invoice.number} : le montant ne peut pas être négatif."
        elif amount == 0:
            continue
        elif invoice.kind == Invoice.Kind.CREDIT or invoice.status in (
            Invoice.Status.CANCELLED,
            Invoice.Status.NOTHING_DUE,
        ):
            errors[key] = f"{invoice} : rien à encaisser."
        elif amount > invoice.balance:
            errors[key] = (
                f"Facture {invoice.number} : au plus le reste à payer ({euros(invoice.balance)})."
            )
    return errors


def record_desk_payment(
    *,
    household,
    means: str,
    allocations: Iterable[tuple[Invoice | int, object]],
    by,
    idempotency_key: uuid.UUID | str | None = None,
    cheque_number: str = "",
    bank: str = "",
    reference: str = "",
    note: str = "",
    now: datetime | None = None,
) -> DeskOutcome:
    """Record money received at the desk and its allocation to invoices.
    Raises BillingValidationError (field -> French message); never IntegrityError."""
    now = now or timezone.now()
    try:
        key = uuid.UUID(str(idempotency_key)) if idempotency_key else uuid.uuid4()
    except ValueError:
        raise BillingValidationError(
            {"idempotency_key": "Formulaire périmé : rechargez la page."}
        ) from None
    existing = DeskPayment.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return DeskOutcome(existing, created=False)
    wanted: dict[int, Decimal | None] = {}
    for invoice, raw in allocations:
        pk = getattr(invoice, "pk", invoice)
        amount = _amount(raw) if raw not in (None, "") else Decimal(0)
        if pk in wanted and wanted[pk] is not None and amount is not None:
            wanted[pk] += amount
        else:
            wanted[pk] = amount
    cheque_number, bank = cheque_number.strip()[:30], bank.strip()[:80]
    try:
        with transaction.atomic():
            # Lock in primary-key order: two desks paying the same invoices cannot deadlock.
            invoices = list(
                Invoice.objects.select_for_update()
                .filter(pk__in=list(wanted), household=household)
                .order_by("pk")
            )
            if len(invoices) != len(wanted):
                raise BillingValidationError(
                    {"allocations": "Une des factures n'appartient pas à ce foyer."}
                )
            typed = {inv: wanted[inv.pk] for inv in invoices}
            errors = allocation_problems(
                means=means, cheque_number=cheque_number, bank=bank, allocations=typed
            )
            if errors:
                raise BillingValidationError(errors)
            chosen = [(inv, a) for inv, a in typed.items() if a]
            number = numbering.receipt_number(timezone.localtime(now).year)
            desk = DeskPayment.objects.create(
                household_id=getattr(household, "pk", household),
                means=means,
                cheque_number=cheque_number if means == DeskPayment.Means.CHEQUE else "",
                bank=bank if means == DeskPayment.Means.CHEQUE else "",
                reference=reference.strip()[:80],
                amount=sum((a for _, a in chosen), Decimal(0)),
                receipt_number=number,
                idempotency_key=key,
                received_at=now,
                received_by=by if getattr(by, "is_authenticated", False) else None,
                received_by_label=_label(by),
                note=note.strip()[:255],
            )
            for i, (invoice, amount) in enumerate(chosen, start=1):
                payment = Payment.objects.create(
                    invoice=invoice,
                    method=Payment.Method.DESK,
                    provider="regie",
                    transaction_id=f"{number}-{i}",  # ours: never what staff typed
                    amount=amount,
                    paid_at=now,
                    receipt_number=f"{number}-{i}",
                    desk_payment=desk,
                )
                _refresh_state(invoice)
                _queue_receipt(payment, invoice)
            _history(desk, chosen, by)
    except IntegrityError:
        # The same form submitted twice at once: the other request committed first.
        existing = DeskPayment.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return DeskOutcome(existing, created=False)
    return DeskOutcome(desk, created=True, warnings=same_reference_warnings(desk))


def same_reference_warnings(desk: DeskPayment) -> list[str]:
    """A cheque number (or ticket reference) already recorded: allowed, but say so."""
    others = DeskPayment.objects.exclude(pk=desk.pk).filter(means=desk.means)
    if desk.means == DeskPayment.Means.CHEQUE and desk.cheque_number:
        others = others.filter(cheque_number__iexact=desk.cheque_number)
    elif desk.reference:
        others = others.filter(reference__iexact=desk.reference)
    else:
        return []
    return [
        f"Attention : la même référence figure déjà sur le reçu {o.receipt_number} du "
        f"{moment_label(o.received_at)} ({euros(o.amount)}). Vérifiez qu'il ne s'agit pas "
        "d'un doublon."
        for o in others.order_by("-received_at")[:3]
    ]


def _label(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return (user.get_full_name() or user.get_username())[:200]


def _history(desk: DeskPayment, chosen, by) -> None:
    invoices = ", ".join(f"{inv.number} ({euros(a)})" for inv, a in chosen)
    history.record(
        household=desk.household_id,
        actor=by,
        action="billing.desk_payment",
        summary=(
            f"Paiement au guichet de {euros(desk.amount)} en {desk.means_label}, "
            f"reçu {desk.receipt_number} : {invoices}"
        ),
        reason=desk.note,
    )


def pay_invoice_at_desk(
    *, invoice: Invoice, amount, by, means: str = DeskPayment.Means.CASH, **kwargs
) -> Payment:
    """One invoice, one amount: the allocation's Payment row."""
    outcome = record_desk_payment(
        household=invoice.household_id,
        means=means,
        allocations=[(invoice, amount)],
        by=by,
        **kwargs,
    )
    return outcome.desk_payment.allocations.get(invoice=invoice)
