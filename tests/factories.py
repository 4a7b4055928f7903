"""factory-boy factories with fictitious French data (Faker fr_FR).

Create rows inside a town: `with in_town(castres): ChildFactory()`.
"""

import datetime

import factory
from factory.django import DjangoModelFactory

factory.Faker._DEFAULT_LOCALE = "fr_FR"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = "accounts.User"
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"famille{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("mot-de-passe-de-test-assez-long")


class HouseholdFactory(DjangoModelFactory):
    class Meta:
        model = "families.Household"

    name = factory.Sequence(lambda n: f"Famille n°{n}")
    address_line = factory.Faker("street_address")
    postcode = "81100"
    city = "Castres"


class AdultFactory(DjangoModelFactory):
    class Meta:
        model = "families.Adult"

    household = factory.SubFactory(HouseholdFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda a: f"{a.first_name}.{a.last_name}@example.org".lower())
    phone = "06 12 34 56 78"


class ChildFactory(DjangoModelFactory):
    class Meta:
        model = "families.Child"
        skip_postgeneration_save = True

    household = factory.SubFactory(HouseholdFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    birth_date = datetime.date(2018, 5, 14)

    @factory.post_generation
    def guardians(self, create, extracted, **kwargs):
        if create and extracted:
            self.guardians.add(*extracted)
