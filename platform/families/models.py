"""Households, legal representatives and children (town schema).

Access rule: a family account reaches a child through the legal representative
(`Adult`) linked to the account, never through an id in a URL alone. Separated
parents are two households, each with its own Adult, both guardians of the child.
"""
from django.conf import settings
from django.db import models


class Household(models.Model):
    """A "foyer": the unit that holds an address, a quotient familial and bills."""

    name = models.CharField("nom du foyer", max_length=160)
    address_line = models.CharField("adresse", max_length=255, blank=True)
    postcode = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("commune", max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "foyer"

    def __str__(self) -> str:
        return self.name


class Adult(models.Model):
    """A legal representative ("responsable légal"), possibly with an account."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="adults")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="adult",
    )
    first_name = models.CharField("prénom", max_length=80)
    last_name = models.CharField("nom", max_length=80)
    email = models.EmailField("e-mail", blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)

    class Meta:
        verbose_name = "responsable légal"

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Child(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="children")
    guardians = models.ManyToManyField(Adult, related_name="children", blank=True)
    first_name = models.CharField("prénom", max_length=80)
    last_name = models.CharField("nom", max_length=80)
    birth_date = models.DateField("date de naissance")

    class Meta:
        verbose_name = "enfant"
        ordering = ["birth_date", "id"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"
