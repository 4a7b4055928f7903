"""Delivering outbox rows. One row is sent at most once by concurrent workers:
the row is locked (FOR UPDATE SKIP LOCKED) and marked `sent_at` in the same
transaction as the send, so the immediate task and the periodic retry never
both send it. (A crash between the SMTP server's acceptance and our commit can
still resend it once: we prefer a rare duplicate to a lost e-mail.)
"""

from __future__ import annotations

import datetime
import logging

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from core import metrics
from notifications.models import OutboxMessage

log = logging.getLogger(__name__)

# After this many failed sends a row is left for an operator to look at
# (a permanently wrong address must not be retried every minute forever).
MAX_ATTEMPTS = 10
# The immediate task normally sends a row within seconds; the periodic retry
# leaves younger rows alone so both do not compete for every new row.
RETRY_AFTER = datetime.timedelta(seconds=60)


def deliver(pk: int) -> bool:
    """Send one pending row. True if this call sent it."""
    with transaction.atomic():
        row = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
            .first()
        )
        if row is None:  # already sent, being sent by another worker, or given up
            return False
        try:
            EmailMessage(row.subject, row.body, None, row.to).send()
        except Exception as exc:  # SMTP down, refused address...: try again later
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:500]
            row.save(update_fields=["attempts", "last_error"])
            metrics.after_commit(metrics.record_email, outcome="failed")
            log.warning("outbox_send_failed", extra={"outbox_id": row.pk, "attempts": row.attempts})
            return False
        row.sent_at = timezone.now()
        row.attempts += 1
        row.save(update_fields=["sent_at", "attempts"])
        metrics.after_commit(metrics.record_email, outcome="sent")
        return True


def flush_pending(*, older_than: datetime.timedelta = RETRY_AFTER, limit: int = 200) -> int:
    """Send the current town's pending rows older than `older_than`. Returns how many were sent."""
    cutoff = timezone.now() - older_than
    pks = list(
        OutboxMessage.objects.filter(
            sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS, created_at__lte=cutoff
        ).values_list("pk", flat=True)[:limit]
    )
    return sum(deliver(pk) for pk in pks)
