"""User accounts. The table exists in the public schema (platform operators)
and in every town's schema (families and town staff): an account belongs to
one town, and a family in two towns has two accounts."""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    email = models.EmailField("adresse e-mail", blank=True)

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
