"""PDF documents (WeasyPrint): invoice, payment receipt, fiscal attestation.

Rendered on demand from immutable rows (an issued invoice never changes, so
its PDF never does); nothing is stored. WeasyPrint needs Pango (Debian:
libpango-1.0-0, libpangoft2-1.0-0; see .ci/run).
"""

from __future__ import annotations

import logging

from django.template.loader import render_to_string

from . import proximity, services
from .french import long_day, moment_label, month_label, of_month
from .pricing import euros
from .regie import display

# WeasyPrint logs each rendering step at INFO: keep our JSON logs readable.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is asked for

    return HTML(string=render_to_string(template, context)).write_pdf()


def _town(commune) -> dict:
    return {
        "name": commune.name,
        "label": commune.contact_label,
        "address": commune.contact_address,
        "phone": commune.contact_phone,
        "email": commune.contact_email,
        "website": commune.website,
    }


def invoice_context(invoice, commune, *, how_to_pay: str, pay_url: str) -> dict:
    lines = list(invoice.lines.all())
    # « prélèvement prévu » only while the money is not collected: once the
    # collection date has come (settle_direct_debits) the invoice is paid.
    debit = (
        next(
            (d for d in invoice.direct_debits.all() if d.status in ("scheduled", "exported")),
            None,
        )
        if invoice.status == "direct_debit"
        else None
    )
    return {
        "town": _town(commune),
        "invoice": invoice,
        "lines": [
            {
                "day": long_day(line.day),
                "child": line.child_name,
                "service": line.service_name,
                "quantity": line.quantity.normalize(),
                "unit": line.unit,
                "amount": euros(line.amount),
                "explanation": line.explanation,
            }
            for line in lines
        ],
        "period": month_label(invoice.year, invoice.month),
        "of_period": of_month(invoice.year, invoice.month),
        "invoice_date": long_day(invoice.invoice_date),
        "due_date": long_day(invoice.due_date),
        "total": euros(invoice.total),
        "paid": euros(invoice.amount_paid),
        "balance": euros(max(invoice.balance, 0)),
        "window_opens": moment_label(invoice.payment_opens_at),
        "window_closes": moment_label(invoice.payment_closes_at),
        "debit_date": long_day(debit.collection_date) if debit else "",
        "status": (
            f"prélèvement prévu le {long_day(debit.collection_date)}"
            if debit
            else invoice.get_status_display()
        ),
        "debit_rum": debit.mandate.rum if debit else "",
        "how_to_pay": how_to_pay,
        "pay_url": pay_url,
        "corrects": invoice.corrects,
        "proximity": proximity.for_invoice(invoice, commune),
    }


def invoice_pdf(invoice, commune, *, how_to_pay: str, pay_url: str) -> bytes:
    return render_pdf(
        "billing/pdf/invoice.html",
        invoice_context(invoice, commune, how_to_pay=how_to_pay, pay_url=pay_url),
    )


def receipt_pdf(payment, commune) -> bytes:
    invoice = payment.invoice
    return render_pdf(
        "billing/pdf/receipt.html",
        {
            "town": _town(commune),
            "payment": payment,
            "invoice": invoice,
            "amount": euros(payment.amount),
            "paid_at": moment_label(payment.paid_at),
            "period": month_label(invoice.year, invoice.month),
        },
    )


def attestation_pdf(attestation, commune) -> bytes:
    return render_pdf(
        "billing/pdf/attestation.html",
        {
            "town": _town(commune),
            "a": attestation,
            "children": [
                {"name": c.name, "birth_date": long_day(c.birth_date), "amount": euros(c.amount)}
                for c in attestation.children
            ],
            "total": euros(attestation.total),
        },
    )


def regie_statement_pdf(statement, commune) -> bytes:
    return render_pdf(
        "billing/pdf/regie.html",
        {
            "town": _town(commune),
            "day": long_day(statement.day),
            "regies": display(statement),
            "total": euros(statement.total),
        },
    )


LETTER_TITLES = {
    "reminder_1": "Première relance",
    "reminder_2": "Seconde relance",
    "handover": "Facture transmise au Trésor public",
}


def reminder_context(invoice, commune, *, how_to_pay: str, invoice_url: str, today) -> dict:
    """What the reminder letter says: the invoice still owed (amounts, dates),
    the step it is at, and how to pay now. Dated the day of its step (the same
    letter whenever it is downloaded again); an invoice not reminded yet gets
    a « rappel » dated today."""

    step = invoice.reminders.order_by("-done_on", "-id").first()
    handed_over = invoice.status == "handed_over"
    refusal = services.online_payment_refusal(invoice)
    return {
        "town": _town(commune),
        "invoice": invoice,
        "title": LETTER_TITLES[step.stage] if step else "Rappel : facture impayée",
        "stage": step.stage if step else "",
        "letter_date": long_day(step.done_on if step else today),
        "period": month_label(invoice.year, invoice.month),
        "invoice_date": long_day(invoice.invoice_date),
        "due_date": long_day(invoice.due_date),
        "total": euros(invoice.total),
        "paid": euros(invoice.amount_paid + invoice.amount_credited),
        "balance": euros(max(invoice.balance, 0)),
        "handed_over": handed_over,
        "online": refusal is None,
        "refusal": refusal or "",
        "invoice_url": invoice_url,
        "how_to_pay": how_to_pay,
        "proximity": proximity.for_invoice(invoice, commune),
    }


def reminder_pdf(invoice, commune, *, how_to_pay: str, invoice_url: str, today) -> bytes:
    return render_pdf(
        "billing/pdf/reminder.html",
        reminder_context(
            invoice, commune, how_to_pay=how_to_pay, invoice_url=invoice_url, today=today
        ),
    )
