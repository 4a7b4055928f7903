"""A payment received twice, in real Chromium: the family sees its credit on
« Mes factures »; an agent of the régie sees the counter on the staff home,
opens « Paiements reçus en trop » and records what was done. Phone (390x844)
and desktop (1280x800), axe-core on each page, screenshots in
test-artifacts/screenshots/credit/ (or $SHOTS_DIR)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.testing import force_login_verified

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SHOTS_DIR", ROOT / "test-artifacts" / "screenshots" / "credit"))


@pytest.fixture
def credit(live_town, settings):
    from accounts.models import User
    from modules.billing.models import AccountCredit
    from modules.billing.testing import make_invoiced_family, purge_households
    from tenants.models import Commune

    settings.LOGIN_URL = "/connexion/"
    castres = Commune.objects.get(slug="castres")
    with tenant_context(castres):
        family = make_invoiced_family(castres, last_name="Doublon")
        invoice = family.invoice
        AccountCredit.objects.create(
            household=family.household,
            invoice=invoice,
            regie_code=invoice.regie_code,
            regie_name=invoice.regie_name,
            amount=invoice.total,
            provider="payzen",
            transaction_id="20261207_000042",
            received_at=timezone.now(),
        )
        agent = User.objects.create_user(
            username="agent-regie-nav", password="x" * 20, role="agent", service_areas=["billing"]
        )
        families, staff = Client(), Client()
        families.force_login(family.user)
        force_login_verified(staff, agent, castres)
    family.cookies = {"family": families.cookies["sessionid"].value}
    family.cookies["staff"] = staff.cookies["sessionid"].value
    yield family
    with tenant_context(castres):
        from booking.models import Activity

        purge_households([family.household.pk])
        agent.delete()
        Activity.objects.filter(name__startswith="Activité de test").filter(
            slots__isnull=True
        ).delete()
    connection.set_schema_to_public()


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_credit_seen_by_the_family_and_handled_by_the_regie(page, live_town, credit, axe):
    from modules.billing.pricing import euros

    amount = euros(credit.invoice.total)
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.context.clear_cookies()
        page.context.add_cookies(
            [{"name": "sessionid", "value": credit.cookies["family"], "url": live_town.url}]
        )
        page.goto(f"{live_town.url}/castres/billing/factures/")
        notice = page.locator("[data-credit]")
        assert f"Vous avez {amount} au crédit de votre compte" in notice.inner_text()
        assert axe(page) == [], axe.format(axe(page))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        _shot(page, f"family-invoices-{width}")

        page.context.clear_cookies()
        page.context.add_cookies(
            [{"name": "sessionid", "value": credit.cookies["staff"], "url": live_town.url}]
        )
        page.goto(f"{live_town.url}/castres/gestion/")
        counter = page.get_by_text("Paiements reçus en trop, à rembourser ou déduire")
        counter.wait_for()
        _shot(page, f"staff-home-{width}")
        page.goto(f"{live_town.url}/castres/billing/gestion/trop-percus/")
        assert "Famille Doublon" in page.content() and amount in page.inner_text("main")
        _shot(page, f"staff-credits-{width}")  # before the checks: a failure shows
        assert axe(page) == [], axe.format(axe(page))
        assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_label("Suite donnée").fill("Remboursé par virement le 9 décembre")
    page.get_by_role("button", name="Marquer traité").click()
    page.get_by_text("marqué traité").wait_for()
    assert "Aucun paiement reçu en trop à traiter." in page.inner_text("main")
    assert "Remboursé par virement le 9 décembre" in page.inner_text("main")
    _shot(page, "staff-credits-handled-1280")
