"""A Bondoufle parent signs in with FranceConnect at the local provider
(platform/idsim, real OpenID Connect over HTTP), creates her space and links it
to her household with the activation key, signs out (the provider's session
ends too) and signs in again in one click. A Castres parent then gets her QF
from the CAF. Screenshots at 390x844 and 1280x800 (SHOTS_DIR, else
test-artifacts/screenshots/franceconnect/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from tests.browser.harness import new_page

SHOTS = Path(os.environ.get("SHOTS_DIR", "test-artifacts/screenshots/franceconnect"))
SIZES = ((390, 844), (1280, 800))


@pytest.fixture
def bernard_key(live_town, django_db_blocker):
    """Bondoufle's household of Camille Bernard, and the key staff handed her."""
    from accounts.services import issue_activation_key
    from tenants.models import Commune
    from tests.factories import AdultFactory, HouseholdFactory

    with django_db_blocker.unblock():
        town = Commune.objects.get(slug="bondoufle")
        with tenant_context(town):
            household = HouseholdFactory(name="Famille Bernard")
            adult = AdultFactory(household=household, first_name="Camille", last_name="Bernard")
            _, key = issue_activation_key(adult=adult, issued_by=None)
    yield key
    # Town schemas outlive a live-server test: leave Bondoufle as it was.
    from accounts.models import User

    with django_db_blocker.unblock(), tenant_context(town):
        User.objects.filter(franceconnect__isnull=False).delete()
        adult.delete()
        household.delete()


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{page.viewport_size['width']}.png"), full_page=True)


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_a_bondoufle_parent_signs_in_with_franceconnect(
    live_town, browser, idsim, bernard_key, axe, size
):
    page = new_page(browser, width=size[0], height=size[1])
    base = live_town.url + "/bondoufle"
    page.goto(base + "/compte/connexion/")
    button = page.get_by_role("button", name="S'identifier avec FranceConnect")
    assert button.is_visible()
    assert axe(page) == []
    shoot(page, "1-connexion")
    button.click()
    page.get_by_label("Camille Bernard", exact=False).check()
    shoot(page, "2-fournisseur")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/franceconnect/premiere-connexion/")
    assert page.get_by_text("Camille Bernard").first.is_visible()
    assert axe(page) == []
    shoot(page, "3-premiere-connexion")
    page.get_by_role("button", name="Créer mon espace avec FranceConnect").click()
    page.wait_for_url("**/compte/cle/")
    shoot(page, "4-cle")
    page.get_by_label("Clé reçue de la mairie", exact=False).fill(bernard_key)
    page.get_by_role("button", name="Rattacher mon espace").click()
    page.wait_for_load_state()
    page.wait_for_url("**/mon-espace/")
    assert page.get_by_text("rattaché à votre dossier famille").is_visible()
    # Sign out: FranceConnect's session ends too.
    page.get_by_role("button", name="Se déconnecter").first.click()
    page.wait_for_url(base + "/")
    assert idsim.ended_sessions == 1
    assert page.get_by_text("de FranceConnect").is_visible()
    # Again: the button, then one click at the provider, and she is home.
    page.goto(base + "/compte/connexion/")
    page.get_by_role("button", name="S'identifier avec FranceConnect").click()
    page.get_by_label("Camille Bernard", exact=False).check()  # her identity at the provider
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/mon-espace/")
    assert page.get_by_text("Bonjour Camille Bernard").is_visible()
    page.context.close()


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_a_castres_parent_gets_her_qf_from_the_caf(
    live_town, browser, idsim, axe, size, django_db_blocker
):
    from django.conf import settings
    from django.test import Client

    from families.testing import login, make_family
    from tenants.models import Commune

    with django_db_blocker.unblock():
        family = make_family(
            Commune.objects.get(slug="castres"), key=f"martin{size[0]}", last_name="Martin"
        )
        client = Client()
        login(client, family.commune, family.user)
    page = new_page(browser, width=size[0], height=size[1])
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_town.url,
            }
        ]
    )
    page.goto(live_town.url + "/castres/mon-espace/quotient-familial/caf/")
    assert axe(page) == []
    shoot(page, "5-qf-caf")
    page.get_by_label("J'autorise la mairie").check()
    page.get_by_label("Nom de naissance").fill("Martin")
    page.get_by_label("Prénoms").fill("Claire")
    page.get_by_label("Sexe à l'état civil").select_option("F")
    page.get_by_label("Date de naissance").fill("1986-04-12")
    page.get_by_label("Code INSEE de votre commune de naissance").fill("81065")
    page.get_by_role("button", name="Demander mon quotient familial").click()
    page.wait_for_url("**/mon-espace/famille/")
    assert page.get_by_text("obtenu auprès de la CAF").first.is_visible()
    shoot(page, "6-qf-obtenu")
    page.context.close()
