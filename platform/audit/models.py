"""Who read or changed a family's personal data (town schema).

Written through `audit.journal.record()`; read by the town's data-protection
officer (role town_admin). The family is named by its household id, NOT by a
foreign key: the journal must outlive an erased household (it is the proof the
erasure happened) and must never be collected into the family's own export.
"""

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    # documents.personal_data: never exported with, nor erased with, a family.
    family_data = False

    created_at = models.DateTimeField("date", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Snapshot: the journal stays readable when the account is later removed.
    actor_label = models.CharField("auteur", max_length=200, blank=True)
    action = models.CharField("action", max_length=60, db_index=True)
    household_id = models.BigIntegerField("foyer concerné", null=True, blank=True, db_index=True)
    target = models.CharField("objet", max_length=120, blank=True)
    detail = models.JSONField("détail", default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "entrée du journal des accès"
        verbose_name_plural = "journal des accès"

    def __str__(self) -> str:
        return f"{self.created_at:%d/%m/%Y %H:%M} {self.actor_label} {self.action}"
