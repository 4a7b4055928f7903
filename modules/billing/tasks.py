"""Billing's Celery tasks (thin: they call services).

Each runs in the schema of the town it was sent from (tenant-schemas-celery).
They are sent to the towns by the platform's ONE dispatcher
(core.tasks.dispatch_to_towns, spread over a window, capped below the broker's
visibility timeout), from the beat entries of BillingConfig.periodic_jobs
(apps.py; core.scheduling.beat_entries, added by portal.celery):
- `run_month_for_town`, on the 1st of the month at 02:00, invoices the month
  just ended (towns spread over BILLING_RUN_WINDOW_SECONDS);
- `reconcile_payments_for_town`, every 15 minutes, asks PayFiP about attempts
  left "waiting" (PayFiP towns only);
- `settle_debits_for_town`, every morning: direct debits due are paid.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from notifications.services import deliver

from .lines import previous_month
from .reminder_services import run_reminders
from .services import current_commune, reconcile_waiting_payments, run_month, settle_direct_debits

log = logging.getLogger(__name__)

RUN_TASK = "billing.tasks.run_month_for_town"


@shared_task(name=RUN_TASK, acks_late=True)
def run_month_for_town(year: int | None = None, month: int | None = None) -> dict:
    """The monthly invoicing run of the current town (idempotent: a retry or a
    duplicate message creates nothing twice); without a month, the one just
    ended (the beat entry's case)."""

    if year is None or month is None:
        year, month = previous_month(timezone.localdate())
    result = run_month(commune=current_commune(), year=int(year), month=int(month))
    return {
        "invoices": result.invoices,
        "lines": result.lines,
        "deferred": result.deferred,
        "problems": result.problems,
    }


@shared_task(name="billing.tasks.deliver_notices", ignore_result=True)
def deliver_notices(outbox_ids: list[int]) -> int:
    """Send the run's notices (outbox rows of this town) now; rows this misses
    are re-sent by notifications.tasks.flush_outboxes."""

    return sum(deliver(pk) for pk in outbox_ids)


@shared_task(name="billing.tasks.reconcile_payments_for_town", ignore_result=True)
def reconcile_payments_for_town() -> dict:
    return reconcile_waiting_payments()


@shared_task(name="billing.tasks.settle_debits_for_town", ignore_result=True)
def settle_debits_for_town() -> int:
    """Direct debits whose collection date has come become paid (this town)."""

    return settle_direct_debits()


@shared_task(name="billing.tasks.send_reminders_for_town", ignore_result=True)
def send_reminders_for_town() -> dict:
    """Reminders and handovers due today (this town): idempotent, run daily."""

    return run_reminders(commune=current_commune()).steps
