"""Celery tasks of the outbox. Thin: they call notifications.services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection
from django_tenants.utils import tenant_context

from core.towns import active_towns
from notifications import services

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def send_outbox_message(pk: int) -> bool:
    """Sent right after commit; runs in the sending town's schema (tenant-schemas-celery)."""
    return services.deliver(pk)


@shared_task(ignore_result=True)
def flush_outboxes() -> int:
    """Beat, every minute: re-send every town's pending e-mails.

    One dispatcher walks the towns (architecture.md: one beat entry per town
    does not scale). Each town costs one indexed query on a partial index of
    pending rows, usually empty.
    """
    sent = 0
    for commune in active_towns():
        with tenant_context(commune):
            try:
                sent += services.flush_pending()
            except Exception:  # one town's failure must not stop the others
                log.exception("outbox_flush_failed", extra={"commune": commune.slug})
    connection.set_schema_to_public()
    return sent
