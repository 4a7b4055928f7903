"""factory-boy factories with fictitious French data (Faker fr_FR).

Create rows inside a town: `with in_town(castres): ChildFactory()`.
"""

import datetime

import factory
from django.utils import timezone
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


def school_age_birth_date(years: int = 8) -> datetime.date:
    """14 May, `years` years before today (today as the test's clock sees it)."""
    return datetime.date(timezone.localdate().year - years, 5, 14)


class ChildFactory(DjangoModelFactory):
    class Meta:
        model = "families.Child"
        skip_postgeneration_save = True

    household = factory.SubFactory(HouseholdFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    # Eight years old on the (possibly moved) clock's today, so no age limit
    # of a service is ever crossed by the calendar alone (issue #13).
    birth_date = factory.LazyFunction(lambda: school_age_birth_date())

    @factory.post_generation
    def guardians(self, create, extracted, **kwargs):
        if create and extracted:
            self.guardians.add(*extracted)
