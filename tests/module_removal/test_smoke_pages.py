"""The platform's pages, whatever modules are installed: run with every module
by the main suite, and without billing / without petite enfance by
tests/test_module_removal.py (a process with tests/module_removal/settings.py).
Each page answers 200 and a missing module leaves no entry behind."""

from __future__ import annotations

import html

import pytest
from django.apps import apps
from django.test import Client

from families.testing import login, make_family, make_staff

pytestmark = pytest.mark.django_db

FAMILY_PAGES = [
    "/castres/",
    "/castres/mon-espace/",
    "/castres/mon-espace/famille/",
    "/castres/mon-espace/reservations/",
    "/castres/mon-espace/absences/",
    "/castres/mon-espace/demandes/",
]
STAFF_PAGES = [
    "/castres/gestion/",
    "/castres/gestion/familles/",
    "/castres/gestion/familles/{household}/",
    "/castres/gestion/demandes/",
    "/castres/gestion/configuration/",
    "/castres/gestion/configuration/modules/",
    "/castres/gestion/exports/",
]


def _page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def people(castres):
    family = make_family(castres, key="smoke-famille", last_name="Fumée")
    admin = make_staff(castres, username="smoke-admin", role="town_admin")
    return family, admin


def test_family_pages_render(castres, people):
    family, _ = people
    client = Client()
    login(client, castres, family.user)
    for url in FAMILY_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        if not apps.is_installed("modules.billing"):
            assert "/castres/billing/" not in _page(response), url
            assert ">Factures<" not in _page(response), url


def test_staff_pages_render(castres, people):
    family, admin = people
    client = Client()
    login(client, castres, admin)
    for template in STAFF_PAGES:
        url = template.format(household=family.household.pk)
        response = client.get(url)
        assert response.status_code == 200, url
        page = _page(response)
        if not apps.is_installed("modules.billing"):
            assert "/castres/billing/" not in page, url
            assert "Tarifs et règles de facturation" not in page, url
        if not apps.is_installed("modules.petite_enfance"):
            assert "/castres/petite-enfance/" not in page, url
