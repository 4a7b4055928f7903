"""Town-level configuration rows, created in every town's schema by onboarding.

They are DERIVED from the town's configuration document (`Commune.config`, the
truth: decisions/0006), written only by tenants.onboarding in the transaction
that applies a version, and read through core.town_config (`services()`,
`contacts()`). The service modules attach their own models to `Service` and
derive their own rows (billing's PaymentSettings) through `sync_town_rows`.
"""

from django.db import models


class Contact(models.Model):
    """A service desk families can call ("Petite Enfance 01 60 76 59 20")."""

    label = models.CharField("service", max_length=120)
    phone = models.CharField("téléphone", max_length=40, blank=True)
    email = models.EmailField("e-mail", blank=True)
    address = models.CharField("adresse", max_length=255, blank=True)
    hours = models.CharField("horaires", max_length=255, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "contact"

    def __str__(self) -> str:
        return self.label


class Service(models.Model):
    """A service a town offers (school restaurant, ALSH mercredi, crèche...).

    `kind` is one of the kinds declared by a service module (core.modules);
    `deadlines` holds the reservation deadline rules as data (the rule kinds
    are defined in tenant_configs/schema.json and evaluated by the booking
    core's pure function).
    """

    code = models.SlugField("code", max_length=60, unique=True)
    name = models.CharField("nom", max_length=160)
    kind = models.CharField("type", max_length=60)
    module = models.CharField("module", max_length=40)
    description = models.TextField(blank=True)
    deadlines = models.JSONField("règles de délai", default=dict)
    options = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField("actif", default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "service"

    def __str__(self) -> str:
        return self.name


class TownLogo(models.Model):
    """The town's logo (at most one row), sent by its admin from the back-office
    (/<slug>/gestion/configuration/identite/), checked by core.uploads like
    every upload (PNG or JPEG only: no SVG, which may carry scripts). Its
    colours are in the configuration (`identity`, core.identity)."""

    image = models.FileField("logo", upload_to="identite/")
    content_type = models.CharField(max_length=60)
    uploaded_at = models.DateTimeField("envoyé le", auto_now=True)
    uploaded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "logo de la commune"

    def __str__(self) -> str:
        return f"Logo envoyé le {self.uploaded_at:%d/%m/%Y}"
