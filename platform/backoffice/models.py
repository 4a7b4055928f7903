"""Staff access to a family's file is logged (security.md: who read which
child's data, when). Town schema."""

from django.conf import settings
from django.db import models


class AccessLog(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    household = models.ForeignKey("families.Household", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=40, default="consultation")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "consultation d'un dossier famille"

    def __str__(self) -> str:
        return f"{self.created_at:%d/%m/%Y %H:%M} {self.user_id} {self.household_id}"


class StaffAction(models.Model):
    """What staff did FOR a family (booking by phone, cancellation past the
    deadline, absence declared, registration validated, payment at the desk):
    who, when, why. Shown in the family's history (staff record and the
    family's own account). Written by backoffice.history.record()."""

    household = models.ForeignKey(
        "families.Household", on_delete=models.CASCADE, related_name="staff_actions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Snapshot: the history stays readable when the account is later removed.
    actor_label = models.CharField("agent", max_length=200, blank=True)
    action = models.CharField("action", max_length=60)
    summary = models.TextField("ce qui a été fait")
    reason = models.TextField("motif", blank=True)
    created_at = models.DateTimeField("date", auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "action d'un agent pour une famille"

    def __str__(self) -> str:
        return f"{self.created_at:%d/%m/%Y %H:%M} {self.actor_label} {self.action}"
