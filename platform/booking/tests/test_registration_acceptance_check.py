"""The service's conditions (age, level, residence) checked at the family's
request are checked AGAIN when staff accept: a child outside them is accepted
only with the reason of a dérogation, journalled with who gave it (#23)."""

from __future__ import annotations

import pytest

from booking.models import Registration
from booking.registrations import RegistrationRefused, decide_registration, request_registration
from booking.tests.conftest import login, make_staff
from tenants.testing import edit_town_config, service_options


@pytest.fixture
def pending(family, in_town):
    """Léa's ALSH request, made while she met the conditions; the service's
    age limit then changes under it (the town edited its services)."""
    from booking.models import Activity
    from core.models import Service

    lea = family.children[0]
    with in_town(family.commune):
        service = Service.objects.get(code="alsh-mercredi")
        edit_town_config(
            family.commune, service_options(service.code, **{"registration": "validation"})
        )
        service.refresh_from_db()
        registration = request_registration(
            child=lea, service=service, school_year=2026, user=family.user
        )
        assert registration.status == Registration.Status.PENDING
        Activity.objects.filter(service=service).update(max_age_months=12)  # babies only now
    return registration


def _journal(commune, in_town):
    from audit.models import AuditEntry

    with in_town(commune):
        return list(AuditEntry.objects.filter(action="eligibility.override"))


def test_accepting_outside_the_conditions_needs_a_reason_and_is_journalled(
    client, family, in_town, pending
):
    with in_town(family.commune):
        agent = make_staff(areas=["alsh"])
    login(client, family.commune, agent)
    page = client.get("/castres/alsh/gestion/inscriptions/").content.decode()
    assert "Hors conditions du service" in page and 'name="derogation"' in page
    refused = client.post(
        "/castres/alsh/gestion/inscriptions/",
        {"inscription": pending.pk, "decision": "accept"},
        follow=True,
    )
    assert refused.status_code == 200
    assert "indiquez le motif de la dérogation" in refused.content.decode()
    with in_town(family.commune):
        pending.refresh_from_db()
        assert pending.effective_status == Registration.Status.PENDING
    assert _journal(family.commune, in_town) == []

    client.post(
        "/castres/alsh/gestion/inscriptions/",
        {
            "inscription": pending.pk,
            "decision": "accept",
            "derogation": "Fratrie déjà accueillie, accord de l'élu",
        },
    )
    with in_town(family.commune):
        pending.refresh_from_db()
        assert pending.effective_status == Registration.Status.ACCEPTED
    (entry,) = _journal(family.commune, in_town)
    assert entry.actor_id == agent.pk
    assert entry.detail["motif"] == "Fratrie déjà accueillie, accord de l'élu"
    assert entry.detail["condition"] == "accueil jusqu'à 1 an"


def test_the_inbox_refuses_an_ineligible_acceptance_with_a_french_message(
    client, family, in_town, pending
):
    with in_town(family.commune):
        agent = make_staff(username="accueil", areas=["alsh"])
        demande = pending.demande
    login(client, family.commune, agent)
    from django.core.exceptions import ValidationError

    from demandes import services as demande_services

    with in_town(family.commune), pytest.raises(ValidationError, match="dérogation"):
        demande_services.change_status(demande=demande, action="accept", actor=agent)
    with in_town(family.commune):
        pending.refresh_from_db()
        assert pending.status == Registration.Status.PENDING


def test_an_eligible_child_is_accepted_without_any_reason(family, in_town):
    from core.models import Service

    with in_town(family.commune):
        service = Service.objects.get(code="alsh-mercredi")
        edit_town_config(
            family.commune, service_options(service.code, **{"registration": "validation"})
        )
        service.refresh_from_db()
        registration = request_registration(
            child=family.children[1], service=service, school_year=2026, user=family.user
        )
        agent = make_staff(username="ok", areas=["alsh"])
        done = decide_registration(registration=registration, accept=True, actor=agent)
        assert done.status == Registration.Status.ACCEPTED
        with pytest.raises(RegistrationRefused, match="déjà été examinée"):
            decide_registration(registration=registration, accept=True, actor=agent)
