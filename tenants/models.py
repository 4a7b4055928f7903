"""Which towns exist (public schema). One town = one PostgreSQL schema."""
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Commune(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        SUSPENDED = "suspended", "suspendue"

    name = models.CharField("nom", max_length=120)
    slug = models.SlugField("chemin", max_length=63, unique=True)
    insee_code = models.CharField("code INSEE", max_length=5, unique=True)
    department = models.CharField("département", max_length=80)
    department_code = models.CharField("n° de département", max_length=3)
    website = models.URLField("site de la mairie", blank=True)
    contact_label = models.CharField(max_length=160)
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_address = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    enabled_modules = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    config = models.JSONField("configuration validée", default=dict, blank=True)
    config_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    auto_create_schema = True
    auto_drop_schema = False  # a town's data is never dropped by a delete()

    class Meta:
        ordering = ["name"]
        verbose_name = "commune"

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Domain(DomainMixin):
    """A path segment that reaches a town: its slug (primary) and old aliases
    from the previous portal (e.g. `ville-castres`) that redirect to it."""

    class Meta:
        verbose_name = "chemin d'accès"
