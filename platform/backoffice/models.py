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
