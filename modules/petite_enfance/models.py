"""Petite enfance: crèche pre-registration (appointment, commission decision)
and holiday declarations ("congés") for regular care.

Occasional care is booked by the hour through the booking core: each hourly
slot of a crèche is an `booking.Activity` with `starts_at`/`ends_at`, so one
booking is one hour, which is what the hourly tariffs price.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q


class CrecheApplication(models.Model):
    """A pre-registration for a regular crèche place (Donges: through the Relais
    Petite Enfance, places allocated by a commission twice a year; Castres: the
    family asks for an appointment)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "envoyée"
        APPOINTMENT = "appointment", "rendez-vous fixé"
        COMMISSION = "commission", "présentée en commission"
        ACCEPTED = "accepted", "place attribuée"
        WAITING = "waiting", "en liste d'attente"
        REFUSED = "refused", "non retenue"
        CANCELLED = "cancelled", "annulée"

    household = models.ForeignKey("families.Household", on_delete=models.PROTECT, related_name="+")
    child = models.ForeignKey(
        "families.Child", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expected_child_name = models.CharField(
        "enfant à naître (prénom, si connu)", max_length=80, blank=True
    )
    service = models.ForeignKey("core.Service", on_delete=models.PROTECT, related_name="+")
    desired_start = models.DateField("date d'accueil souhaitée")
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(),
        default=list,
        verbose_name="jours d'accueil souhaités (0 = lundi)",
    )
    hours_per_week = models.PositiveSmallIntegerField("heures par semaine", default=0)
    comment = models.TextField("précisions", blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    demande = models.ForeignKey(
        "demandes.Demande", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    appointment_at = models.DateTimeField("rendez-vous", null=True, blank=True)
    appointment_place = models.CharField("lieu du rendez-vous", max_length=160, blank=True)
    commission_date = models.DateField("date de la commission", null=True, blank=True)
    decision_note = models.TextField("décision (message à la famille)", blank=True)
    # A place given although the child is outside the service's conditions
    # (age, residence): the staff's stated reason (also in the audit journal).
    eligibility_override = models.CharField("motif de la dérogation", max_length=500, blank=True)
    start_date = models.DateField("début du contrat", null=True, blank=True)
    end_date = models.DateField("fin du contrat", null=True, blank=True)
    site = models.ForeignKey(
        "booking.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "pré-inscription en crèche"

    def __str__(self) -> str:
        return f"{self.household} — {self.service} ({self.get_status_display()})"


class LeaveDeclaration(models.Model):
    """Holiday dates ("congés") a family declares for regular care (Bondoufle):
    the booked days of that range are cancelled within the deadline, so they
    are not billed."""

    child = models.ForeignKey("families.Child", on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey("core.Service", on_delete=models.PROTECT, related_name="+")
    first_day = models.DateField("premier jour")
    last_day = models.DateField("dernier jour")
    comment = models.CharField("commentaire", max_length=255, blank=True)
    cancelled_days = models.PositiveSmallIntegerField("jours libérés", default=0)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-first_day", "-id"]
        verbose_name = "déclaration de congés"
        constraints = [
            models.CheckConstraint(
                condition=Q(first_day__lte=F("last_day")), name="petite_enfance_leave_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child} — congés du {self.first_day:%d/%m/%Y} au {self.last_day:%d/%m/%Y}"
