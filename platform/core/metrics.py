"""Our own Prometheus counters, labelled by town, and the helpers modules call.

django-prometheus already counts requests, latencies and responses (its
middleware). The business counters below are the ones an operator watches per
town. Modules call the helpers, never the counters directly:

    from core import metrics
    metrics.record_booking(module="periscolaire")            # inside the town
    metrics.record_payment(provider="payzen", outcome="paid", amount_cents=4250)

The town label defaults to the town of the current request or task. The
services that do the work record (booking.services/changes, billing's payment
notifications, notifications' sender), after commit so a rolled-back booking is
not counted: `metrics.after_commit(metrics.record_booking, module=..., ...)`.
A refusal is counted at once (nothing is committed).

Processes: gunicorn and Celery prefork run several processes; with
PROMETHEUS_MULTIPROC_DIR set (deploy/ sets it) every process writes its
samples there and /metrics (or the worker's exporter, see
`start_worker_exporter`) adds them up. Cardinality: one series per town and
label value; at tens of thousands of towns see docs/scaling.md.
"""

from __future__ import annotations

import logging
import os

import sentry_sdk
from celery import signals
from django.db import connection, transaction
from prometheus_client import REGISTRY, CollectorRegistry, Counter, multiprocess, start_http_server

from core.context import current_town

log = logging.getLogger(__name__)

BOOKINGS = Counter(
    "guichet_bookings_total",
    "Réservations et annulations, par commune, module et issue "
    "(action: created, cancelled; outcome: ok, waiting_list, refused).",
    ["town", "module", "action", "outcome"],
)
PAYMENTS = Counter(
    "guichet_payments_total",
    "Paiements en ligne traités, par commune, prestataire et issue.",
    ["town", "provider", "outcome"],
)
PAYMENT_AMOUNT = Counter(
    "guichet_payments_amount_euros_total",
    "Montant des paiements acceptés (euros), par commune et prestataire.",
    ["town", "provider"],
)
TASK_FAILURES = Counter(
    "guichet_task_failures_total",
    "Tâches Celery en échec, par commune et tâche.",
    ["town", "task"],
)
REFUSED_NOTIFICATIONS = Counter(
    "guichet_payment_notifications_refused_total",
    "Notifications de paiement refusées (signature, montant, facture...), par commune et raison.",
    ["town", "provider", "reason"],
)
EMAILS = Counter(
    "guichet_emails_total",
    "E-mails envoyés ou en échec, par commune et issue (sent, failed).",
    ["town", "outcome"],
)
DISPATCHED = Counter(
    "guichet_dispatched_tasks_total",
    "Tâches envoyées par le répartiteur périodique (core.tasks.dispatch_to_towns).",
    ["task"],
)

IMPORTED_LINES = Counter(
    "guichet_import_lines_total",
    "Lignes lues par l'import des familles d'un ancien portail, par commune, "
    "mode (dry_run, apply) et issue (accepted, refused).",
    ["town", "mode", "outcome"],
)
TOWN_EXPORTS = Counter(
    "guichet_town_exports_total",
    "Exports complets d'une commune (réversibilité) produits.",
    ["town"],
)

# eopayment's statuses (shared/payments.md) that mean money was received.
PAID_OUTCOMES = frozenset({"paid", "accepted"})


def town_label(town=None) -> str:
    """A Commune, a slug, or None for the town of the current request or task."""
    if town is None:
        # Requests set current_town; tasks run with the town set on the
        # connection by tenant-schemas-celery (django-tenants' connection.tenant).
        tenant = getattr(connection, "tenant", None)
        town = current_town.get() or getattr(tenant, "slug", "") or "public"
    return str(getattr(town, "slug", town))


def after_commit(record, /, **labels) -> None:
    """Call `record(**labels)` once the current transaction commits (at once outside
    one), with the town label read NOW (the schema may change before the commit)."""

    labels.setdefault("town", town_label())
    transaction.on_commit(lambda: record(**labels))


def record_booking(
    *,
    module: str,
    town=None,
    action: str = "created",
    outcome: str = "ok",
    count: int = 1,
) -> None:
    """action: "created" or "cancelled"; outcome: "ok", "waiting_list", "refused";
    count: days or slots at once."""
    if count:
        BOOKINGS.labels(
            town=town_label(town), module=module or "-", action=action, outcome=outcome
        ).inc(count)


def record_refused_notification(*, provider: str, reason: str, town=None) -> None:
    REFUSED_NOTIFICATIONS.labels(town=town_label(town), provider=provider, reason=reason).inc()


def record_email(*, outcome: str, town=None, count: int = 1) -> None:
    """outcome: "sent" or "failed"."""
    EMAILS.labels(town=town_label(town), outcome=outcome).inc(count)


def record_payment(*, provider: str, outcome: str, town=None, amount_cents: int = 0) -> None:
    """outcome: eopayment's status in lower case (paid, denied, cancelled, ...)."""
    label = town_label(town)
    outcome = outcome.lower()
    PAYMENTS.labels(town=label, provider=provider, outcome=outcome).inc()
    if outcome in PAID_OUTCOMES and amount_cents:
        PAYMENT_AMOUNT.labels(town=label, provider=provider).inc(amount_cents / 100)


def record_task_failure(*, task: str, town=None) -> None:
    TASK_FAILURES.labels(town=town_label(town), task=task).inc()


def record_import(*, applied: bool, lines: int, refused: int, seconds: float, town=None) -> None:
    label, mode = town_label(town), "apply" if applied else "dry_run"
    IMPORTED_LINES.labels(town=label, mode=mode, outcome="accepted").inc(max(lines - refused, 0))
    IMPORTED_LINES.labels(town=label, mode=mode, outcome="refused").inc(refused)
    log.info("import %s: %s lignes, %s refusées, %.1f s", mode, lines, refused, seconds)


def record_town_export(*, town=None) -> None:
    TOWN_EXPORTS.labels(town=town_label(town)).inc()


# --- Celery hooks (connected once from core.tasks, which every worker imports)


def _on_task_failure(sender=None, **kwargs) -> None:
    # Runs in the worker, still inside the task's schema (tenant-schemas-celery
    # restores it at task_postrun, after this signal).
    record_task_failure(task=getattr(sender, "name", str(sender)))


def _on_task_prerun(sender=None, **kwargs) -> None:
    if sentry_sdk.get_client().is_active():
        sentry_sdk.set_tag("town", town_label())


def _on_worker_ready(**kwargs) -> None:
    port = os.environ.get("CELERY_METRICS_PORT")
    if port:
        start_worker_exporter(int(port))


def _on_worker_process_shutdown(pid=None, **kwargs) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid or os.getpid())


def start_worker_exporter(port: int, addr: str = "0.0.0.0"):  # noqa: S104 (pod network)
    """Celery workers have no web server: expose their counters on `port`."""

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    log.info("celery metrics exporter", extra={"port": port})
    return start_http_server(port, addr=addr, registry=registry)


def connect_celery_signals() -> None:
    signals.task_failure.connect(_on_task_failure, dispatch_uid="guichet_task_failure_metric")
    signals.task_prerun.connect(_on_task_prerun, dispatch_uid="guichet_task_sentry_town")
    signals.worker_ready.connect(_on_worker_ready, dispatch_uid="guichet_worker_exporter")
    signals.worker_process_shutdown.connect(
        _on_worker_process_shutdown, dispatch_uid="guichet_worker_process_dead"
    )
