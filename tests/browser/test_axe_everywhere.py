"""axe-core (WCAG 2 A/AA) on EVERY page a visitor, a family or a town admin
can open without arguments, enumerated from the URLconfs: a new page cannot
escape the check. Pages with arguments are covered by their own flows.

Who signs in comes from the accessibility statement's list
(content.accessibility.AXE_SWEEPS): the statement says what is run here."""
import pytest

from content.accessibility import AXE_SWEEPS
from tests.hardening.enumerate import argless_routes

SKIP_SUFFIXES = (".pdf", ".zip", ".csv", ".xlsx", ".ics", ".json", ".txt", ".xml")
SKIP_PARTS = ("api/", "export", "deconnexion", "logout", "metrics", "health", "fichier", "telecharger")


def _pages(urlconf):
    return [r.path for r in argless_routes(urlconf)
            if not r.path.endswith(SKIP_SUFFIXES) and not any(p in r.path for p in SKIP_PARTS)]


def _signed_in(browser, live_town, client, base):
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": f"{live_town.url}{base}"}])
    return context


def _sweep(page, live_town, base, paths, axe, checked):
    problems = []
    for path in paths:
        try:
            response = page.goto(f"{live_town.url}{base}{path}")
        except Exception:  # a POST-only URL (405 with no body): not a page
            continue
        if response is None or response.status >= 400 or "text/html" not in response.headers.get(
                "content-type", ""):
            continue
        checked.append(path)
        found = axe(page)
        if found:
            problems.append(f"{base}{path}: {axe.format(found)}")
    return problems


def test_every_public_page_of_the_platform_and_a_town(page, live_town, axe):
    checked = []
    problems = _sweep(page, live_town, "/", _pages("portal.urls_public"), axe, checked)
    problems += _sweep(page, live_town, "/castres/", _pages("portal.urls_tenant"), axe, checked)
    assert not problems, "\n".join(problems)
    assert len(checked) >= 10, checked  # the sweep really opened pages


SIGNED_IN = [who for who, _ in AXE_SWEEPS if who != "visitor"]


@pytest.mark.parametrize("who", SIGNED_IN)
def test_every_page_signed_in(browser, live_town, axe, who, django_db_blocker):
    from django.test import Client
    from django_tenants.utils import tenant_context

    from accounts.testing import force_login_verified
    from tenants.models import Commune
    from tests.factories import AdultFactory, HouseholdFactory, UserFactory

    with django_db_blocker.unblock():
        castres = Commune.objects.get(slug="castres")
        with tenant_context(castres):
            user = UserFactory(username=f"axe-{who}", role=who)
            if who == "family":
                AdultFactory(household=HouseholdFactory(name="Famille Axe"), user=user)
        client = Client()
        force_login_verified(client, user, castres)
    context = _signed_in(browser, live_town, client, "/castres/")
    page = context.new_page()
    try:
        checked = []
        problems = _sweep(page, live_town, "/castres/", _pages("portal.urls_tenant"), axe, checked)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    print(f"{who}: {len(checked)} pages checked")
    assert len(checked) >= 10, checked
