"""Crèche eligibility everywhere (age, residence) and regular places that
cover the whole decided period (Bondoufle, accueil régulier 2–47 months)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client

from booking.models import Activity, Booking, DaySlot
from booking.tests.conftest import login, make_staff
from booking.tests.helpers import paris
from modules.petite_enfance.models import CrecheApplication
from modules.petite_enfance.services import (
    PetiteEnfanceRefused,
    record_decision,
    submit_application,
)
from tenants.testing import edit_town_config, service_options

pytestmark = pytest.mark.django_db
MON = date(2027, 3, 15)


@pytest.fixture
def family(bondoufle, in_town, settings):
    """A Bondoufle household with a 9-year-old (Jules) and a baby (Noé)."""
    from tests.factories import AdultFactory, ChildFactory, HouseholdFactory, UserFactory

    settings.LOGIN_URL = "/connexion/"
    with in_town(bondoufle):
        user = UserFactory(username="garnier", email="garnier@example.org")
        household = HouseholdFactory(name="Famille Garnier", city="Bondoufle")
        adult = AdultFactory(household=household, user=user, email=user.email)
        jules = ChildFactory(
            household=household, first_name="Jules", birth_date=date(2018, 1, 10), guardians=[adult]
        )
        noe = ChildFactory(
            household=household, first_name="Noé", birth_date=date(2026, 1, 5), guardians=[adult]
        )
    return type(
        "Family",
        (),
        {"commune": bondoufle, "user": user, "household": household, "jules": jules, "noe": noe},
    )


def _regular():
    from core.models import Service

    return Service.objects.get(code="creche-reguliere")


def test_a_nine_year_old_cannot_be_pre_registered_through_the_form(family, in_town):
    client = Client()
    with time_machine.travel("2027-02-01 10:00:00+00:00", tick=False):
        login(client, family.commune, family.user)
        response = client.post(
            "/bondoufle/petite-enfance/pre-inscription/",
            {
                "enfant": family.jules.pk,
                "service": "creche-reguliere",
                "debut": "2027-03-15",
                "jours": ["0", "3"],
                "heures": "20",
                "precisions": "",
            },
        )
    page = response.content.decode()
    assert response.status_code == 422
    assert "Jules ne peut pas être pré-inscrit(e)" in page
    assert "3 ans inclus" in page
    with in_town(family.commune):
        assert not CrecheApplication.objects.exists()
        # The baby can.
        submit_application(
            household=family.household,
            service=_regular(),
            desired_start=MON,
            weekdays=[0],
            hours_per_week=10,
            child=family.noe,
            user=family.user,
        )


def test_staff_acceptance_outside_the_rules_needs_a_reason_and_is_logged(family, in_town):
    from audit.models import AuditEntry

    with in_town(family.commune):
        # An application made before the check existed (the demo's 9-year-old).
        application = CrecheApplication.objects.create(
            household=family.household,
            child=family.jules,
            service=_regular(),
            desired_start=MON,
            weekdays=[0],
            hours_per_week=10,
        )
        staff = make_staff("rpe", areas=["petite_enfance"])
        with pytest.raises(PetiteEnfanceRefused, match="motif de la dérogation"):
            record_decision(
                application=application, decision="accepted", actor=staff, now=paris(2027, 2, 10)
            )
        with pytest.raises(PetiteEnfanceRefused, match="motif de la dérogation"):
            record_decision(
                application=application,
                decision="accepted",
                actor=staff,
                override_reason="   ",
                now=paris(2027, 2, 10),
            )
        assert not AuditEntry.objects.filter(action="eligibility.override").exists()
        record_decision(
            application=application,
            decision="accepted",
            actor=staff,
            override_reason="Enfant en situation de handicap : accueil prolongé (avis PMI).",
            end_date=MON + timedelta(days=13),
            now=paris(2027, 2, 10),
        )
        application.refresh_from_db()
        assert application.status == "accepted"
        assert application.eligibility_override.startswith("Enfant en situation de handicap")
        entry = AuditEntry.objects.get(action="eligibility.override")
        assert entry.household_id == family.household.pk
        assert entry.detail["motif"].startswith("Enfant en situation de handicap")
        assert "3 ans inclus" in entry.detail["condition"]


def test_the_staff_form_shows_the_reason_to_give(family, in_town):
    with in_town(family.commune):
        application = CrecheApplication.objects.create(
            household=family.household,
            child=family.jules,
            service=_regular(),
            desired_start=MON,
            weekdays=[0],
            hours_per_week=10,
        )
        staff = make_staff("rpe2", areas=["petite_enfance"])
    client = Client()
    login(client, family.commune, staff)
    url = f"/bondoufle/petite-enfance/gestion/commission/{application.pk}/"
    response = client.post(
        url,
        {"what": "commission", "decision": "accepted", "commission": "2027-02-10"},
    )
    page = response.content.decode()
    assert "motif de la dérogation" in page
    with in_town(family.commune):
        application.refresh_from_db()
        assert application.status != "accepted"


def test_a_non_resident_is_refused_where_the_service_is_for_residents_only(family, in_town):
    from booking.registrations import household_resident
    from booking.rules import Eligibility, eligibility_problem, is_resident

    assert is_resident("Bondoufle", "Bondoufle") is True
    assert is_resident("  bondoufle ", "Bondoufle") is True
    assert is_resident("Évry-Courcouronnes", "Bondoufle") is False
    assert is_resident("", "Bondoufle") is None
    rule = Eligibility(residents_only=True)
    kwargs = {"birth_date": date(2026, 1, 5), "school_level": "", "on": MON}
    assert eligibility_problem(rule, resident=False, **kwargs) == (
        "réservé aux familles habitant la commune"
    )
    assert eligibility_problem(rule, resident=True, **kwargs) is None
    assert eligibility_problem(rule, resident=None, **kwargs) is None  # unknown: staff check
    assert eligibility_problem(Eligibility(), resident=False, **kwargs) is None
    with in_town(family.commune):
        service = _regular()
        edit_town_config(
            family.commune,
            service_options(
                service.code,
                **{"eligibility": {**service.options["eligibility"], "residents_only": True}},
            ),
        )
        service.refresh_from_db()
        family.household.city = "Évry-Courcouronnes"
        family.household.save(update_fields=["city"])
        assert household_resident(family.household) is False
        with pytest.raises(PetiteEnfanceRefused, match="habitant la commune"):
            submit_application(
                household=family.household,
                service=service,
                desired_start=MON,
                weekdays=[0],
                hours_per_week=10,
                child=family.noe,
                user=family.user,
            )


def test_a_regular_place_covers_the_whole_decided_period_with_capacity_every_day(family, in_town):
    with in_town(family.commune):
        service = _regular()
        activity = Activity.objects.get(service=service, is_active=True)
        # Only two weeks of slots exist (the demo stopped early).
        for i in range(14):
            DaySlot.objects.get_or_create(
                activity=activity, day=MON + timedelta(days=i), defaults={"capacity": 2}
            )
        application = submit_application(
            household=family.household,
            service=service,
            desired_start=MON,
            weekdays=[0, 3],
            hours_per_week=20,
            child=family.noe,
            user=family.user,
        )
        staff = make_staff("rpe3", areas=["petite_enfance"])
        end = date(2027, 6, 30)
        record_decision(
            application=application,
            decision="accepted",
            actor=staff,
            end_date=end,
            now=paris(2027, 2, 10),
        )
        days = sorted(Booking.objects.filter(child=family.noe).values_list("slot__day", flat=True))
        assert days[0] == MON and days[-1] > MON + timedelta(days=60)
        assert max(days) <= end and all(d.weekday() in (0, 3) for d in days)
        # Every Monday and Thursday of the period that the town opens is booked.
        opened = set(
            DaySlot.objects.filter(activity=activity, day__range=(MON, end)).values_list(
                "day", flat=True
            )
        )
        assert set(days) == {d for d in opened if d.weekday() in (0, 3)}
        application.refresh_from_db()
        assert application.end_date == end


def test_a_full_day_in_the_period_refuses_the_place_and_books_nothing(family, in_town):
    with in_town(family.commune):
        service = _regular()
        activity = Activity.objects.get(service=service, is_active=True)
        full_day = MON + timedelta(days=10)  # a Thursday
        DaySlot.objects.update_or_create(activity=activity, day=full_day, defaults={"capacity": 0})
        application = submit_application(
            household=family.household,
            service=service,
            desired_start=MON,
            weekdays=[0, 3],
            hours_per_week=20,
            child=family.noe,
            user=family.user,
        )
        staff = make_staff("rpe4", areas=["petite_enfance"])
        with pytest.raises(PetiteEnfanceRefused, match="1 jour\\(s\\) complet\\(s\\)"):
            record_decision(
                application=application,
                decision="accepted",
                actor=staff,
                end_date=MON + timedelta(days=20),
                now=paris(2027, 2, 10),
            )
        assert not Booking.objects.filter(child=family.noe).exists()
