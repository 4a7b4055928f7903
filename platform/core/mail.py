"""Sending e-mail from a use case: a transactional outbox.

`queue_mail` is the one entry point. It writes a `notifications.OutboxMessage`
row in the CALLER'S transaction (rolled back with it), and after commit asks
Celery to send it. If the broker is unreachable at that moment nothing is
lost: the row stays pending and the beat task `notifications.tasks.flush_outboxes`
sends it within a minute. docs/decisions/0500-mail-outbox.md
"""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.template.loader import render_to_string

log = logging.getLogger(__name__)


def queue_mail(*, to: list[str], subject: str, template: str, context: dict) -> None:
    from notifications.models import OutboxMessage

    recipients = sorted({a for a in to if a})
    if not recipients:
        return
    body = render_to_string(template, context)
    row = OutboxMessage.objects.create(to=recipients, subject=subject[:255], body=body)
    # The row lives in this town's schema: the task must run there, whatever
    # schema the connection is on when the commit callbacks run.
    schema = connection.schema_name
    transaction.on_commit(lambda: _send_now(row.pk, schema))


def _send_now(pk: int, schema: str) -> None:
    from notifications.tasks import send_outbox_message

    if send_outbox_message.app.conf.task_always_eager:  # no broker (demo): send in-process
        from django_tenants.utils import schema_context

        with schema_context(schema):
            send_outbox_message.apply(args=[pk])
        return
    try:
        # A short-lived connection that gives up at once: while the broker is
        # down the outbox retry covers the row, and the family's request must not
        # wait (kombu's defaults retry for ~6 s; this fails in ~5 ms).
        with send_outbox_message.app.connection_for_write(
            connect_timeout=1, transport_options=_NO_RETRY
        ) as conn:
            send_outbox_message.apply_async(
                args=[pk], headers={"_schema_name": schema}, retry=False, connection=conn
            )
    except Exception:
        log.warning("outbox_enqueue_failed", extra={"outbox_id": pk}, exc_info=True)


_NO_RETRY = {"max_retries": 0, "interval_start": 0}
