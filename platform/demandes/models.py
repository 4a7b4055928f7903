"""Requests ("demandes"): the one generic model every module uses for what a
family asks and staff decide (link an account, change the quotient familial,
register a child, justify an absence...)."""
from django.conf import settings
from django.db import models


class Demande(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "brouillon"
        SUBMITTED = "submitted", "envoyée"
        IN_REVIEW = "in_review", "en cours d'examen"
        ACCEPTED = "accepted", "acceptée"
        REFUSED = "refused", "refusée"
        CANCELLED = "cancelled", "annulée"

    kind = models.CharField("type", max_length=60)
    subject = models.CharField("objet", max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    service_area = models.CharField("service", max_length=40, default="general")
    household = models.ForeignKey(
        "families.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="demandes"
    )
    child = models.ForeignKey(
        "families.Child", null=True, blank=True, on_delete=models.PROTECT, related_name="demandes"
    )
    payload = models.JSONField(default=dict, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["service_area", "status"])]
        verbose_name = "demande"

    def __str__(self) -> str:
        return self.subject


class DemandeEvent(models.Model):
    """History line: a status change or a message, with who and when."""

    demande = models.ForeignKey(Demande, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
