"""Transactional outbox for e-mails (town schema).

A use case writes its e-mail as a row IN ITS OWN TRANSACTION (notifications.outbox.queue_mail):
if the transaction rolls back there is no e-mail, and if it commits the e-mail
exists even when the broker (Redis) is down at that moment. A Celery task sends
the row right after commit; a periodic task re-sends rows still pending.
"""

from django.db import models


class OutboxMessage(models.Model):
    to = models.JSONField("destinataires", default=list)
    subject = models.CharField("objet", max_length=255)
    body = models.TextField("texte")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set in the same transaction that holds the row lock while sending: a row
    # is sent at most once by concurrent workers (notifications.services.deliver).
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "e-mail à envoyer"
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_pending_idx",
                condition=models.Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.subject
