"""User accounts. The table exists in the public schema (platform operators)
and in every town's schema (families and town staff): an account belongs to
one town, and a family in two towns has two accounts."""
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    class Role(models.TextChoices):
        FAMILY = "family", "famille"
        AGENT = "agent", "agent"
        MANAGER = "manager", "responsable de service"
        TOWN_ADMIN = "town_admin", "administrateur de la commune"
        OPERATOR = "operator", "opérateur de la plateforme"

    class Area(models.TextChoices):
        PETITE_ENFANCE = "petite_enfance", "petite enfance"
        PERISCOLAIRE = "periscolaire", "scolaire et périscolaire"
        ALSH = "alsh", "ALSH"
        BILLING = "billing", "facturation"

    email = models.EmailField("adresse e-mail", blank=True)
    role = models.CharField("rôle", max_length=12, choices=Role.choices, default=Role.FAMILY)
    # Service areas an agent works in (agents only; managers and admins see all).
    service_areas = ArrayField(models.CharField(max_length=20, choices=Area.choices), default=list, blank=True)

    class Meta:
        verbose_name = "compte"
        constraints = [
            # Castres signs in by e-mail: an address identifies one account.
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_ci_unique",
            )
        ]

    @property
    def is_town_staff(self) -> bool:
        return self.role in (self.Role.AGENT, self.Role.MANAGER, self.Role.TOWN_ADMIN)

    def works_in(self, area: str) -> bool:
        """Agents work in their service areas; managers and town admins in all."""
        if self.role in (self.Role.MANAGER, self.Role.TOWN_ADMIN):
            return True
        return self.role == self.Role.AGENT and area in self.service_areas
