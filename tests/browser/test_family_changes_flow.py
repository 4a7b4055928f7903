"""End-to-end in Chromium (Playwright, the shared harness of tests/browser/: its
session `browser`): a family changes its address (applied at
once) and its quotient familial (a request validated by staff, then visible in
« Mes demandes » with its history).

Why not pytest-django's `live_server` fixture: it forces `transactional_db`,
whose teardown FLUSHES the public schema (the towns' rows of the whole test
session). Instead the data is committed in a throwaway town created here, served
by the same LiveServer class in a thread, and the town is dropped afterwards.
"""

from __future__ import annotations

import re
import shutil

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from families.testing import login, make_family, make_staff
from tests.browser.harness import launch

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SLUG = "essai-navigateur"


@pytest.fixture(scope="module")
def town(django_db_setup, django_db_blocker):
    from tenants.config import load_file, validate
    from tenants.models import Commune, Domain
    from tenants.onboarding import onboard_commune

    with django_db_blocker.unblock():
        data = dict(load_file(settings.TENANT_CONFIGS_DIR / "castres.yaml").data)
        data.update(slug=SLUG, name="Essai-sur-Navigateur", insee_code="99001", aliases=[])
        commune = onboard_commune(config=validate(data, source="test")).commune
        family = make_family(commune, key="nav-famille", last_name="Navette", children=1)
        staff = make_staff(commune, username="nav-agent", role="agent", areas=["billing"])
    yield type("Town", (), {"commune": commune, "family": family, "staff": staff})
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{commune.schema_name}" CASCADE')
        Domain.objects.filter(tenant=commune).delete()
        Commune.objects.filter(pk=commune.pk).delete()
    shutil.rmtree(f"{settings.MEDIA_ROOT}/{commune.schema_name}", ignore_errors=True)


@pytest.fixture(scope="module")
def town_live_server(town):
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1:0")
    yield server
    server.stop()


@pytest.fixture
def browser(town_live_server):
    """The harness's Chromium (tests/browser/harness.py), started after this
    module's town and live server (the session-wide one would start first)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def _field(page, label: str):
    """The form control labelled exactly `label` (Django adds " :" after labels)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\W*$"))


def _signed_in_page(browser, server, commune, user):
    """A browser page carrying a session created like `client.force_login`."""
    client = Client()
    login(client, commune, user)  # committed: no test transaction around the fixture data
    context = browser.new_context(locale="fr-FR")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_address_change_is_applied_at_once(browser, town_live_server, town, django_db_blocker):
    from playwright.sync_api import expect

    with django_db_blocker.unblock():
        page = _signed_in_page(browser, town_live_server, town.commune, town.family.user)
    page.goto(f"{town_live_server.url}/{SLUG}/mon-espace/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon tableau de bord")
    page.get_by_role("link", name="Mettre à jour mes coordonnées").click()
    _field(page, "Adresse").fill("8 allée des Tilleuls")
    _field(page, "Code postal").fill("81100")
    _field(page, "Commune").fill("Castres")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    expect(page.get_by_role("status")).to_contain_text("Vos modifications sont enregistrées.")
    expect(
        page.get_by_text("Adresse actuelle : 8 allée des Tilleuls, 81100 Castres.")
    ).to_be_visible()

    # A malformed postcode: a French message next to the field, nothing saved.
    _field(page, "Code postal").fill("8110")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    expect(page.get_by_text("Le code postal doit comporter 5 chiffres.")).to_be_visible()
    expect(_field(page, "Code postal")).to_have_attribute("aria-invalid", "true")
    with django_db_blocker.unblock(), tenant_context(town.commune):
        from families.models import Household

        assert Household.objects.get(pk=town.family.household.pk).postcode == "81100"


def test_quotient_familial_validated_by_staff_shows_in_mes_demandes(
    browser,
    town_live_server,
    town,
    django_db_blocker,
):
    from playwright.sync_api import expect

    url = f"{town_live_server.url}/{SLUG}"
    with django_db_blocker.unblock():
        family_page = _signed_in_page(browser, town_live_server, town.commune, town.family.user)
        staff_page = _signed_in_page(browser, town_live_server, town.commune, town.staff)

    family_page.goto(f"{url}/mon-espace/quotient-familial/")
    _field(family_page, "Quotient familial").fill("780")
    _field(family_page, "Source du quotient familial").select_option("caf")
    _field(family_page, "Date du justificatif").fill("2026-09-01")
    _field(family_page, "Régime allocataire").select_option("caf")
    _field(family_page, "Numéro d'allocataire").fill("7654321")
    family_page.get_by_role("button", name="Envoyer").click()
    expect(family_page.get_by_role("status")).to_contain_text("transmise aux services")

    staff_page.goto(f"{url}/gestion/demandes/")
    staff_page.get_by_role("link", name="Changement de quotient familial").click()
    expect(staff_page.get_by_text("780")).to_be_visible()
    _field(staff_page, "Message à la famille (obligatoire pour un refus)").fill(
        "Attestation CAF vérifiée."
    )
    staff_page.get_by_role("button", name="Accepter").click()
    expect(staff_page.get_by_role("status")).to_contain_text("La décision est enregistrée")

    family_page.goto(f"{url}/mon-espace/")
    expect(family_page.get_by_text("780 €")).to_be_visible()
    family_page.get_by_role("navigation", name="Mon espace").get_by_role(
        "link", name="Demandes", exact=True
    ).click()
    row = family_page.get_by_role("row", name=re.compile("Changement de quotient familial"))
    expect(row).to_contain_text("acceptée")
    row.get_by_role("link").click()
    history = family_page.get_by_role("list", name="Historique")
    expect(history).to_contain_text("Statut : envoyée")
    expect(history).to_contain_text("Statut : envoyée → acceptée")
    expect(history).to_contain_text("Services de la mairie")
    expect(history).to_contain_text("Attestation CAF vérifiée.")
