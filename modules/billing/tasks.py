"""Billing's Celery tasks (thin: they call services).

Per-town tasks run in the schema of the town they were sent from
(tenant-schemas-celery). Beat entries (portal/settings/base.py):
- `billing.tasks.dispatch_monthly_runs`, on the 1st of the month at 02:00,
  sends `run_month_for_town(year, month)` for the month just ended to every
  active town, spread over BILLING_RUN_WINDOW_SECONDS so thousands of towns
  do not start at once: through `core.tasks.dispatch_to_towns` when the
  platform has it, else through the simple loop below (same spreading idea);
- `billing.tasks.dispatch_payment_reconciliation`, every 15 minutes, asks
  PayFiP about attempts left "waiting" (PayFiP towns only).
"""

from __future__ import annotations

import hashlib
import logging

from celery import shared_task
from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

RUN_TASK = "billing.tasks.run_month_for_town"


@shared_task(name=RUN_TASK, acks_late=True)
def run_month_for_town(year: int, month: int) -> dict:
    """The monthly invoicing run of the current town (idempotent: a retry or a
    duplicate message creates nothing twice)."""
    from .services import current_commune, run_month

    result = run_month(commune=current_commune(), year=int(year), month=int(month))
    return {
        "invoices": result.invoices,
        "lines": result.lines,
        "deferred": result.deferred,
        "problems": result.problems,
    }


@shared_task(name="billing.tasks.dispatch_monthly_runs", ignore_result=True)
def dispatch_monthly_runs(year: int | None = None, month: int | None = None) -> int:
    from django.utils import timezone

    from .lines import previous_month

    if year is None or month is None:
        year, month = previous_month(timezone.localdate())
    window = getattr(settings, "BILLING_RUN_WINDOW_SECONDS", 4 * 3600)
    return dispatch_per_town(RUN_TASK, window, {"year": year, "month": month})


def dispatch_per_town(task_name: str, window_seconds: int, task_kwargs: dict, towns=None) -> int:
    """Send a per-town task to every active town (or `towns`), spread over the
    window. Uses the platform's dispatcher when it exists."""
    from core import tasks as core_tasks

    if towns is None and hasattr(core_tasks, "dispatch_to_towns"):
        return core_tasks.dispatch_to_towns(task_name, window_seconds, task_kwargs=task_kwargs)
    from celery import current_app
    from django_tenants.utils import tenant_context

    from tenants.models import Commune

    task = current_app.tasks[task_name]
    if towns is None:
        towns = (
            Commune.objects.exclude(schema_name="public")
            .filter(status=Commune.Status.ACTIVE)
            .order_by("slug")
        )
    sent = 0
    for commune in towns:
        with tenant_context(commune):
            task.apply_async(
                kwargs=task_kwargs,
                countdown=spread_countdown(commune.slug, window_seconds, task_name),
            )
        sent += 1
    connection.set_schema_to_public()
    return sent


def spread_countdown(slug: str, window_seconds: int, salt: str = "") -> int:
    """A stable delay in [0, window) from the town's slug: each town starts at
    its own time, the same every month."""
    if window_seconds <= 0:
        return 0
    digest = hashlib.sha256(f"{salt}:{slug}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % int(window_seconds)


@shared_task(name="billing.tasks.deliver_notices", ignore_result=True)
def deliver_notices(outbox_ids: list[int]) -> int:
    """Send the run's notices (outbox rows of this town) now; rows this misses
    are re-sent by notifications.tasks.flush_outboxes."""
    from notifications.services import deliver

    return sum(deliver(pk) for pk in outbox_ids)


@shared_task(name="billing.tasks.reconcile_payments_for_town", ignore_result=True)
def reconcile_payments_for_town() -> dict:
    from .services import reconcile_waiting_payments

    return reconcile_waiting_payments()


@shared_task(name="billing.tasks.dispatch_payment_reconciliation", ignore_result=True)
def dispatch_payment_reconciliation() -> int:
    """PayFiP towns only: the others' providers retry their notifications."""
    from tenants.models import Commune

    towns = (
        Commune.objects.exclude(schema_name="public")
        .filter(status=Commune.Status.ACTIVE, config__payment__provider="payfip_ws")
        .order_by("slug")
    )
    return dispatch_per_town("billing.tasks.reconcile_payments_for_town", 600, {}, towns=towns)


@shared_task(name="billing.tasks.settle_debits_for_town", ignore_result=True)
def settle_debits_for_town() -> int:
    """Direct debits whose collection date has come become paid (this town)."""
    from .services import settle_direct_debits

    return settle_direct_debits()


@shared_task(name="billing.tasks.dispatch_debit_settlement", ignore_result=True)
def dispatch_debit_settlement() -> int:
    """Every morning, in every town (spread over an hour)."""
    return dispatch_per_town("billing.tasks.settle_debits_for_town", 3600, {})
