"""A Castres family pays an invoice online, in real Chromium, through the
demo provider (eopayment's dummy backend played by our local page), and sees
it paid. The notification travels server-to-server over HTTP, as a real
provider's would; the browser's return only displays.

The live server commits everything: this test writes its rows in Castres'
schema and removes them afterwards (the flush only empties the public schema).
"""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tenants.testing import edit_town_config


@pytest.fixture
def castres_family(live_town, settings):
    from modules.billing.testing import make_invoiced_family, purge_households
    from tenants.models import Commune

    settings.LOGIN_URL = "/connexion/"
    castres = Commune.objects.get(slug="castres")
    previous_payment = copy.deepcopy(castres.config["payment"])
    edit_town_config(castres, {"payment": {"provider": "dummy"}})
    with tenant_context(castres):
        family = make_invoiced_family(castres, last_name="Navigateur")
        client = Client()
        client.force_login(family.user)
    family.cookie = client.cookies["sessionid"].value
    yield family
    with tenant_context(castres):
        from booking.models import Activity

        purge_households([family.household.pk])
        Activity.objects.filter(name__startswith="Activité de test").filter(
            slots__isnull=True
        ).delete()
    edit_town_config(castres, {"payment": previous_payment})
    connection.set_schema_to_public()


def test_castres_family_pays_through_the_dummy_provider_and_sees_it_paid(
    page, live_town, castres_family, axe
):
    invoice = castres_family.invoice
    page.context.add_cookies(
        [{"name": "sessionid", "value": castres_family.cookie, "url": live_town.url}]
    )
    page.goto(f"{live_town.url}/castres/billing/")
    row = page.locator(f"tr[data-invoice='{invoice.number}']")
    assert row.locator(".status").inner_text() == "à payer"
    assert axe(page) == [], axe.format(axe(page))

    row.get_by_role("link", name=f"Facture {invoice.number}", exact=True).click()
    page.get_by_text("Comment ce prix est calculé").wait_for()
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role("button", name="par carte bancaire").click()

    # The provider's page (our demo stand-in): the amount, then "Payer".
    page.wait_for_url("**/castres/billing/paiement/demo/**")
    from modules.billing.pricing import euros

    assert page.locator("#montant").inner_text() == euros(invoice.total)
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role("button", name="Payer", exact=True).click()

    page.wait_for_url("**/castres/billing/paiement/retour/**")
    assert page.locator("#etat-paiement").get_attribute("data-state") == "paid"
    assert "reçu. Merci" in page.locator("#etat-paiement").inner_text()
    page.get_by_role("link", name="Mes factures").first.click()
    assert page.locator(f"tr[data-invoice='{invoice.number}'] .status").inner_text() == "payée"

    from tenants.models import Commune

    with tenant_context(Commune.objects.get(slug="castres")):
        from modules.billing.models import Payment

        payment = Payment.objects.get(invoice=invoice)
        assert (payment.provider, payment.amount, payment.test) == ("dummy", invoice.total, True)
    connection.set_schema_to_public()
