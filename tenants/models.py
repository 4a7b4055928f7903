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


class ConfigVersion(models.Model):
    """One applied version of a town's configuration (public schema).

    Written by every apply that changes the configuration: the onboarding
    command, the operator console and the town's back-office
    (tenants.services.apply_town_config). `data` is the whole validated
    YAML-shaped dict, so any version can be exported or restored."""

    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="config_versions")
    number = models.PositiveIntegerField("version")
    data = models.JSONField("configuration")
    digest = models.CharField(max_length=64)
    # Who: a display string plus the account's id and the schema it lives in
    # (town staff accounts live in their town's schema, operators in public).
    actor_display = models.CharField("auteur", max_length=160, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_schema = models.CharField(max_length=63, blank=True)
    source = models.CharField("origine", max_length=40, blank=True)
    message = models.CharField("message", max_length=255, blank=True)
    created_at = models.DateTimeField("date", auto_now_add=True)

    class Meta:
        ordering = ["commune", "-number"]
        verbose_name = "version de configuration"
        constraints = [
            models.UniqueConstraint(
                fields=["commune", "number"], name="tenants_configversion_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commune} v{self.number}"


class FailedTask(models.Model):
    """A Celery task that failed (fed by the task_failure signal), for the
    operator console's health view."""

    task_name = models.CharField(max_length=200)
    schema_name = models.CharField(max_length=63, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    exception = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "tâche en échec"
        verbose_name_plural = "tâches en échec"

    def __str__(self) -> str:
        return f"{self.task_name} ({self.schema_name or 'public'})"


class TownExport(models.Model):
    """A whole-town export (tenants.town_export): its progress while it runs,
    then where the archive is and its SHA-256, so the town can check the file
    it received is the one produced."""

    class Status(models.TextChoices):
        RUNNING = "running", "en cours"
        DONE = "done", "terminé"
        FAILED = "failed", "en échec"

    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="exports")
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.RUNNING)
    progress = models.PositiveSmallIntegerField("avancement (%)", default=0)
    path = models.CharField("fichier", max_length=255, blank=True)
    sha256 = models.CharField("empreinte SHA-256", max_length=64, blank=True)
    size = models.BigIntegerField("taille (octets)", default=0)
    tables = models.PositiveIntegerField("tables", default=0)
    rows = models.BigIntegerField("lignes", default=0)
    error = models.TextField("erreur", blank=True)
    requested_by = models.CharField("demandé par", max_length=160, blank=True)
    created_at = models.DateTimeField("demandé le", auto_now_add=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)

    class Meta:
        verbose_name = "export complet"
        verbose_name_plural = "exports complets"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export de {self.commune} ({self.created_at:%d/%m/%Y})"
