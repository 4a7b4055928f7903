"""Maintenance access to issued invoices (models.InvoiceQuerySet refuses
deletions otherwise).

Only for the legal retention purge (invoices are kept 10 years, then may be
deleted) and for tests cleaning the committed rows they wrote. Never in a
use case: an issued invoice is corrected by a credit note.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import transaction

from .models import (
    AccountCredit,
    AttemptShare,
    BillingPreference,
    DeskPayment,
    DirectDebit,
    Invoice,
    InvoiceLine,
    Mandate,
    Payment,
    PaymentAttempt,
    PesBatch,
    PesPiece,
    ReminderStep,
    SepaExport,
    in_maintenance,
)


@contextmanager
def maintenance():
    """A transaction in which issued invoices and lines may be deleted."""

    token = in_maintenance.set(True)
    try:
        with transaction.atomic():
            yield
    finally:
        in_maintenance.reset(token)


def purge_household_billing(household_ids) -> None:
    """Delete every billing row of these households (retention purge, tests)."""

    ids = list(household_ids)
    with maintenance():
        invoices = Invoice.objects.filter(household_id__in=ids)
        exports = set(
            DirectDebit.objects.filter(invoice__in=invoices)
            .exclude(export=None)
            .values_list("export_id", flat=True)
        )
        AccountCredit.objects.filter(household_id__in=ids).delete()
        Payment.objects.filter(invoice__in=invoices).delete()
        AttemptShare.objects.filter(invoice__in=invoices).delete()
        DeskPayment.objects.filter(household_id__in=ids).delete()
        PaymentAttempt.objects.filter(invoice__in=invoices).delete()
        DirectDebit.objects.filter(invoice__in=invoices).delete()
        SepaExport.objects.filter(pk__in=exports, debits__isnull=True).delete()
        InvoiceLine.objects.filter(invoice__in=invoices).delete()
        batches = set(
            PesPiece.objects.filter(invoice__in=invoices).values_list("batch_id", flat=True)
        )
        PesPiece.objects.filter(invoice__in=invoices).delete()
        PesBatch.objects.filter(pk__in=batches, pieces__isnull=True).delete()
        ReminderStep.objects.filter(invoice__in=invoices).delete()
        # Credit notes point at what they cancel, corrective invoices at what
        # they replace: delete them first.
        for kind in ("credit", "corrective", "invoice", "opening"):
            Invoice.objects.filter(household_id__in=ids, kind=kind).delete()
        Mandate.objects.filter(household_id__in=ids).delete()
        BillingPreference.objects.filter(household_id__in=ids).delete()
