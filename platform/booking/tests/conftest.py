"""Fixtures of the reservation tests: Famille Martin à Castres registered to the
school restaurant (site « Groupe scolaire du centre », synced from castres.yaml)
with a few opened days in March 2027, and helpers to sign people in."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from documents.testing import make_pdf

MON_15, TUE_16, THU_18, FRI_19 = (
    date(2027, 3, 15),
    date(2027, 3, 16),
    date(2027, 3, 18),
    date(2027, 3, 19),
)
MON_22, THU_25 = date(2027, 3, 22), date(2027, 3, 25)
DAYS = (MON_15, TUE_16, THU_18, FRI_19, MON_22, THU_25)


@pytest.fixture
def meals(family, in_town):
    """Castres' school restaurant for the Martins: both children registered for
    2026-2027, 3 places a day on DAYS."""
    from booking.models import Activity, DaySlot, Registration
    from core.models import Service

    with in_town(family.commune):
        service = Service.objects.get(code="restauration-scolaire")
        activity = Activity.objects.get(code="restauration-scolaire--ecole-centre")
        for d in DAYS:
            DaySlot.objects.create(activity=activity, day=d, capacity=3)
        for child in family.children:
            Registration.objects.create(
                child=child,
                service=service,
                site=activity.site,
                school_year=2026,
                status=Registration.Status.ACCEPTED,
            )
        family.service, family.activity = service, activity
        yield family


def other_family(name="Durand", *, children=1, email=None):
    """Another household of the current town, with an account."""
    from tests.factories import AdultFactory, ChildFactory, HouseholdFactory, UserFactory

    user = UserFactory(username=name.lower(), email=email or f"{name.lower()}@example.org")
    household = HouseholdFactory(name=f"Famille {name}")
    adult = AdultFactory(household=household, user=user, last_name=name, email=user.email)
    kids = [
        ChildFactory(household=household, last_name=name, guardians=[adult])
        for _ in range(children)
    ]
    return type(
        "Family", (), {"user": user, "household": household, "adult": adult, "children": kids}
    )


def evening_care(fam, capacity: int):
    """Castres' evening care (centre) open on DAYS with `capacity` places a day,
    the family's children registered: (service, activity). Call inside the town."""
    from booking.models import Activity, DaySlot
    from core.models import Service

    service = Service.objects.get(code="accueil-soir")
    activity = Activity.objects.get(code="accueil-soir--ecole-centre")
    for d in DAYS:
        DaySlot.objects.create(activity=activity, day=d, capacity=capacity)
    register(fam.children, service, activity.site)
    return service, activity


def register(children, service, site=None, year=2026):
    from booking.models import Registration

    for child in children:
        Registration.objects.create(
            child=child,
            service=service,
            site=site,
            school_year=year,
            status=Registration.Status.ACCEPTED,
        )


def make_staff(username="agent", role="agent", areas=("periscolaire",)):
    from accounts.models import User

    return User.objects.create_user(
        username=username,
        email=f"{username}@mairie.example",
        password="mot-de-passe-de-test-assez-long",
        role=role,
        service_areas=list(areas),
    )


def login(client, commune, user) -> None:
    """force_login in the town's schema; a staff session is marked as having
    given its second factor when django-otp is installed (accounts)."""
    with tenant_context(commune):
        client.force_login(user)
        try:
            from django_otp.plugins.otp_totp.models import TOTPDevice
        except ImportError:
            pass
        else:
            if getattr(user, "is_town_staff", False):
                device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
                session = client.session
                session["otp_device_id"] = device.persistent_id
                session.save()
    connection.set_schema_to_public()


PDF = make_pdf("Certificat médical")  # a real PDF: uploads are parsed (core.uploads)
