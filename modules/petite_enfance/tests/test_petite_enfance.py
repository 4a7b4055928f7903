"""Petite enfance at Bondoufle: occasional care by the hour, pre-registration,
appointment and commission decision, "congés" for regular care."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail

from booking.changes import ChangesRefused, apply_changes
from booking.models import Activity, Booking, DaySlot, Registration
from booking.rules import Action, Change
from booking.tests.conftest import make_staff, register
from booking.tests.helpers import paris
from modules.petite_enfance.models import CrecheApplication, LeaveDeclaration
from modules.petite_enfance.services import (
    PetiteEnfanceRefused,
    declare_leave,
    record_appointment,
    record_decision,
    submit_application,
)

MON, TUE, THU = date(2027, 3, 15), date(2027, 3, 16), date(2027, 3, 18)


@pytest.fixture
def baby(bondoufle, in_town):
    from tests.factories import AdultFactory, ChildFactory, HouseholdFactory, UserFactory

    with in_town(bondoufle):
        user = UserFactory(username="bernard", email="bernard@example.org")
        household = HouseholdFactory(name="Famille Bernard")
        adult = AdultFactory(household=household, user=user, email=user.email)
        child = ChildFactory(
            household=household, first_name="Noé", birth_date=date(2026, 1, 5), guardians=[adult]
        )
        yield type(
            "Baby", (), {"commune": bondoufle, "user": user, "household": household, "child": child}
        )


def test_occasional_care_is_booked_by_the_hour(baby, in_town):
    from core.models import Service

    with in_town(baby.commune):
        service = Service.objects.get(code="creche-occasionnelle")
        hours = list(Activity.objects.filter(service=service, is_active=True).order_by("starts_at"))
        register([baby.child], service, hours[0].site)
        for a in hours[1:3]:
            DaySlot.objects.create(activity=a, day=TUE, capacity=1)
        changes = [Change(baby.child.pk, a.pk, TUE, Action.BOOK) for a in hours[1:3]]
        # 48 hours before the day starts (a default for Bondoufle).
        with pytest.raises(ChangesRefused, match="délai dépassé"):
            apply_changes(
                children={baby.child.pk: baby.child},
                service=service,
                changes=changes,
                now=paris(2027, 3, 14, 1),
            )
        result = apply_changes(
            children={baby.child.pk: baby.child},
            service=service,
            changes=changes,
            now=paris(2027, 3, 13, 23),
        )
        assert [(b.slot.activity.starts_at.hour) for b in result.booked] == [9, 10]


def test_pre_registration_appointment_and_commission(
    baby, in_town, django_capture_on_commit_callbacks
):
    from core.models import Service
    from demandes.models import Demande

    with in_town(baby.commune), django_capture_on_commit_callbacks(execute=True):
        service = Service.objects.get(code="creche-reguliere")
        activity = Activity.objects.get(service=service, is_active=True)
        for i in range(10):
            DaySlot.objects.create(activity=activity, day=MON + timedelta(days=i), capacity=2)
        with pytest.raises(PetiteEnfanceRefused, match="au moins un jour"):
            submit_application(
                household=baby.household,
                service=service,
                desired_start=MON,
                weekdays=[],
                hours_per_week=20,
                child=baby.child,
                user=baby.user,
            )
        application = submit_application(
            household=baby.household,
            service=service,
            desired_start=MON,
            weekdays=[0, 3],
            hours_per_week=20,
            child=baby.child,
            user=baby.user,
        )
        assert Demande.objects.get(kind="creche_preinscription").household == baby.household
        staff = make_staff("rpe", areas=["petite_enfance"])
        record_appointment(
            application=application, at=paris(2027, 2, 1, 10), place="RPE", actor=staff
        )
        record_decision(
            application=application,
            decision="accepted",
            actor=staff,
            note="Bienvenue !",
            commission_date=date(2027, 2, 10),
            end_date=MON + timedelta(days=9),
            now=paris(2027, 2, 10),
        )
        application.refresh_from_db()
        assert application.status == CrecheApplication.Status.ACCEPTED
        assert Registration.objects.get(child=baby.child, service=service).status == "accepted"
        days = sorted(Booking.objects.filter(child=baby.child).values_list("slot__day", flat=True))
        assert days == [MON, THU, MON + timedelta(days=7)]
        with pytest.raises(PetiteEnfanceRefused, match="déjà décidée"):
            record_decision(application=application, decision="refused", actor=staff)
    bodies = [m.body for m in mail.outbox]
    assert any("Rendez-vous fixé le lundi 1er février 2027 à 10:00 — RPE." in b for b in bodies)
    assert any(
        "Décision de la commission : place attribuée. Début de l'accueil le lundi "
        "15 mars 2027. Bienvenue !" in b
        for b in bodies
    )


def test_conges_free_the_regular_days_within_the_deadline(baby, in_town):
    from core.models import Service

    with in_town(baby.commune):
        service = Service.objects.get(code="creche-reguliere")
        activity = Activity.objects.get(service=service, is_active=True)
        register([baby.child], service, activity.site)
        for d in (MON, TUE, THU):
            DaySlot.objects.create(activity=activity, day=d, capacity=2)
            Booking.objects.create(
                slot=DaySlot.objects.get(activity=activity, day=d), child=baby.child
            )
        DaySlot.objects.filter(activity=activity).update(booked=1)
        # Bondoufle regular care: 14 days ahead (a default): 16 March closes on 2 March.
        with pytest.raises(PetiteEnfanceRefused, match="délai dépassé"):
            declare_leave(
                child=baby.child,
                service=service,
                first_day=MON,
                last_day=THU,
                now=paris(2027, 3, 3, 9),
            )
        assert Booking.objects.filter(status="booked").count() == 3
        leave = declare_leave(
            child=baby.child,
            service=service,
            first_day=MON,
            last_day=THU,
            now=paris(2027, 2, 28, 9),
            user=baby.user,
        )
        assert leave.cancelled_days == 3
        assert not Booking.objects.filter(status="booked").exists()
        assert not Booking.objects.filter(cancelled_late=True).exists()
        with pytest.raises(PetiteEnfanceRefused, match="Aucun jour"):
            declare_leave(
                child=baby.child,
                service=service,
                first_day=MON,
                last_day=THU,
                now=paris(2027, 2, 28, 9),
            )
        assert LeaveDeclaration.objects.count() == 1
