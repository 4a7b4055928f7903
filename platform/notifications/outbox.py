"""Sending e-mail from a use case: a transactional outbox.

`queue_mail` is the one entry point. It writes a `notifications.OutboxMessage`
row in the CALLER'S transaction (rolled back with it), and after commit asks
Celery to send it. If the broker is unreachable at that moment nothing is
lost: the row stays pending and the beat task `notifications.tasks.flush_outboxes`
sends it within a minute. docs/decisions/0500-mail-outbox.md

The subject and body are the town's own text when its configuration rewrites
that template (`email_templates`, core.mail_templates): `render_mail()`.
"""

from __future__ import annotations

import logging
import threading

from django.db import connection, transaction
from django.template.loader import render_to_string
from django_tenants.utils import schema_context

from core import mail_templates, town_config
from notifications.models import OutboxMessage
from notifications.tasks import send_outbox_message

log = logging.getLogger(__name__)


def queue_mail(*, to: list[str], subject: str, template: str, context: dict) -> None:
    recipients = sorted({a for a in to if a})
    if not recipients:
        return
    subject, body = render_mail(template=template, subject=subject, context=context)
    row = OutboxMessage.objects.create(to=recipients, subject=subject[:255], body=body)
    # The row lives in this town's schema: the task must run there, whatever
    # schema the connection is on when the commit callbacks run.
    schema = connection.schema_name
    transaction.on_commit(lambda: _send_now(row.pk, schema))


def render_mail(
    *, template: str, subject: str, context: dict, overrides: dict | None = None
) -> tuple[str, str]:
    """(subject, body) of one message: the town's override of `template` when
    it has one, else the default file and the sender's subject. An override
    that fails (no longer valid, error while rendering) is logged and the
    default is used: the e-mail always leaves. `overrides`: the town's
    `email_templates`, when the caller already has them (bulk sends)."""
    body, default_subject = None, subject
    override = (town_overrides() if overrides is None else overrides).get(template)
    if override:
        problems = mail_templates.check_override(template, override)
        if problems:
            log.warning(
                "mail_override_invalid",
                extra={"template": template, "problems": [p for _, p in problems]},
            )
        else:
            try:
                if override.get("subject"):
                    subject = mail_templates.render_subject(override["subject"], context) or subject
                if override.get("body"):
                    body = mail_templates.render(override["body"], context)
            except Exception:
                log.warning("mail_override_failed", extra={"template": template}, exc_info=True)
                body, subject = None, default_subject
    if body is None:
        body = render_to_string(template, context)
    return subject, body


def town_overrides() -> dict:
    """The current town's `email_templates` ({} on the platform's pages)."""
    # A Celery task in schema_context: the selector finds the town by its schema.
    return town_config.section(None, "email_templates") or {}


def _send_now(pk: int, schema: str) -> None:
    if send_outbox_message.app.conf.task_always_eager:  # no broker (demo): send in-process
        with schema_context(schema):
            send_outbox_message.apply(args=[pk])
        return
    try:
        # A connection that gives up at once: while the broker is down the
        # outbox retry covers the row, and the family's request must not wait
        # (kombu's defaults retry for ~6 s; this fails in ~5 ms). Kept for the
        # next message of this thread (a new one cost ~7 Redis connects per
        # e-mail, issue #19's profile); dropped on any failure.
        conn = _broker_connection(send_outbox_message.app)
        try:
            send_outbox_message.apply_async(
                args=[pk], headers={"_schema_name": schema}, retry=False, connection=conn
            )
        except Exception:
            _drop_broker_connection()
            raise
    except Exception:
        log.warning("outbox_enqueue_failed", extra={"outbox_id": pk}, exc_info=True)


_NO_RETRY = {"max_retries": 0, "interval_start": 0}
_broker = threading.local()  # this thread's connection to the broker: (url, connection)


def _broker_connection(app):
    url = app.conf.broker_url
    kept = getattr(_broker, "kept", None)
    if kept is not None and kept[0] == url:
        return kept[1]
    _drop_broker_connection()
    conn = app.connection_for_write(connect_timeout=1, transport_options=_NO_RETRY)
    _broker.kept = (url, conn)
    return conn


def _drop_broker_connection() -> None:
    kept = getattr(_broker, "kept", None)
    _broker.kept = None
    if kept is not None:
        try:
            kept[1].release()
        except Exception:  # noqa: BLE001 - already broken: nothing to close
            pass
