"""What an erasure does to billing records (documents.personal_data calls the
hooks registered here).

Invoices, their lines and payments are accounting records kept 10 years: an
erasure keeps them WHOLE (same lines, same amounts) and replaces who they are
about by a pseudonym, with the date the record may be purged. The lines are
detached from the child and the bookings (deleted with the family's data).
"""

from __future__ import annotations

import uuid
from datetime import date

from django.utils import timezone

from documents.personal_data import register_retention

from .maintenance import maintenance
from .models import AccountCredit, Invoice, InvoiceLine, Payment

RETENTION_YEARS = 10
INVOICE_REASON = (
    "Factures émises et leurs lignes : pièces comptables conservées 10 ans, anonymisées "
    "(code de commerce, art. L123-22 ; instruction budgétaire et comptable M57)."
)
PAYMENT_REASON = "Paiements : pièces comptables conservées 10 ans, anonymisés (art. L123-22)."


def retention_end(invoice_date: date) -> date:
    """Kept until the end of the 10th year after the invoice's year."""
    return date(invoice_date.year + RETENTION_YEARS, 12, 31)


def pseudonym(kind: str) -> str:
    return f"{kind} anonymisé {uuid.uuid4().hex[:8].upper()}"


def anonymise_invoices(pks) -> None:
    payer = pseudonym("Payeur")
    now = timezone.now()
    with maintenance():
        for invoice in Invoice.objects.filter(pk__in=list(pks)).only("pk", "invoice_date"):
            Invoice.objects.filter(pk=invoice.pk).update(
                payer_name=payer,
                payer_email="",
                payer_address="",
                payer=None,
                anonymised_at=now,
                retention_until=retention_end(invoice.invoice_date),
            )


def anonymise_lines(pks) -> None:
    names: dict[int | None, str] = {}
    with maintenance():
        rows = InvoiceLine.objects.filter(pk__in=list(pks)).values_list("pk", "child_id")
        by_child: dict[int | None, list[int]] = {}
        for pk, child_id in rows:
            by_child.setdefault(child_id, []).append(pk)
        for child_id, line_pks in by_child.items():
            name = names.setdefault(child_id, pseudonym("Enfant"))
            InvoiceLine.objects.filter(pk__in=line_pks).update(
                child_name=name, child=None, booking=None
            )


def anonymise_payments(pks) -> None:
    Payment.objects.filter(pk__in=list(pks)).update(bank_data={}, rejection_reason="")


def anonymise_credits(pks) -> None:
    AccountCredit.objects.filter(pk__in=list(pks)).update(bank_data={}, handled_note="")


def register_retentions() -> None:
    register_retention("billing.Invoice", reason=INVOICE_REASON, anonymise=anonymise_invoices)
    register_retention(
        "billing.InvoiceLine",
        reason=INVOICE_REASON,
        anonymise=anonymise_lines,
        detach=("booking", "child"),
    )
    register_retention("billing.Payment", reason=PAYMENT_REASON, anonymise=anonymise_payments)
    register_retention("billing.AccountCredit", reason=PAYMENT_REASON, anonymise=anonymise_credits)
    register_retention(
        "billing.DeskPayment",
        reason="Encaissements au guichet : pièces comptables conservées 10 ans "
        "(code de commerce, art. L123-22).",
    )
