"""ACCESS MATRIX of billing: every invoice, payment and mandate URL and API
endpoint, tried by another family of the same town (404), by a family of
another town whose rows have the SAME primary keys (it only ever sees its
own), anonymously (login) and by staff of another area.

security.md: a portail famille let parents read other children's records by
changing an id in the URL; every object URL is tested with another family's ids.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import get_resolver

from accounts.testing import force_login_verified
from modules.billing import services
from modules.billing.desk import pay_invoice_at_desk
from modules.billing.models import Invoice, Mandate, Payment, PaymentAttempt
from modules.billing.testing import make_invoiced_family

pytestmark = pytest.mark.django_db

GOOD_IBAN = "FR7630006000011234567890189"

# url name -> (path under /<town>/, methods). {invoice} {payment} {mandate} {ref}
# are the OWNER's (famille Alpha, Bondoufle) ids.
FAMILY_PAGES = {
    "billing:invoice": ("billing/factures/{invoice}/", ["get"]),
    "billing:invoice-pdf": ("billing/factures/{invoice}/pdf/", ["get"]),
    "billing:pay": ("billing/factures/{invoice}/payer/", ["post"]),
    "billing:receipt-pdf": ("billing/paiements/{payment}/recu/", ["get"]),
    "billing:mandate-revoke": ("billing/prelevement/{mandate}/revoquer/", ["post"]),
    "billing:payment-return": ("billing/paiement/retour/?ref={ref}", ["get", "post"]),
    "billing:shared-custody-propose": ("billing/garde-partagee/{child}/", ["get", "post"]),
}
FAMILY_API = {
    "api:billing:invoice": ("api/billing/factures/{invoice}/", ["get"]),
    "api:billing:invoice-pay": ("api/billing/factures/{invoice}/paiement/", ["post"]),
    "api:billing:payment": ("api/billing/paiements/{payment}/", ["get"]),
    "api:billing:mandate": ("api/billing/mandats/{mandate}/", ["get", "delete"]),
}
STAFF_PAGES = {
    "billing:staff-invoice": ("billing/gestion/factures/{invoice}/", ["get"]),
    "billing:staff-credit": ("billing/gestion/factures/{invoice}/avoir/", ["post"]),
    "billing:staff-desk-payment": ("billing/gestion/factures/{invoice}/encaissement/", ["post"]),
    "billing:staff-payer-rule": ("billing/gestion/payeurs/{child}/", ["get", "post"]),
}
# Pages without an object id (lists scoped to the family itself).
FAMILY_LISTS = [
    "billing/",
    "billing/factures/",
    "billing/prelevement/",
    "billing/attestations/",
    "billing/garde-partagee/",
    "api/billing/factures/",
    "api/billing/mandats/",
]  # (Bondoufle: no e-invoice page)


def _family(town, last_name, pks=None):
    """A family with an invoice, a payment attempt, a payment and a mandate;
    `pks` forces the primary keys (to collide with another town's)."""
    pks = pks or {}
    with_tables = {
        "invoice": "billing_invoice",
        "payment": "billing_payment",
        "mandate": "billing_mandate",
        "attempt": "billing_paymentattempt",
    }
    for key, table in with_tables.items():
        if key in pks:  # the next row of that table gets this id
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, pks[key]]
                )
    fam = make_invoiced_family(town, last_name=last_name, run=False)
    if town.slug == "bondoufle":
        services.sign_mandate(
            household=fam.household, user=fam.user, iban=GOOD_IBAN, holder_name=f"A {last_name}"
        )
    else:  # Castres offers no direct debit: a row as another version might have left
        from django.utils import timezone

        Mandate.objects.create(
            household=fam.household,
            rum=f"CASTRES-TEST-{last_name}",
            holder_name=f"A {last_name}",
            iban=GOOD_IBAN,
            signed_at=timezone.now(),
            applies_from="2030-01-01",
        )
    from modules.billing.testing import billed_month, issue_day

    year, month = billed_month()
    services.run_month(commune=town, year=year, month=month, today=issue_day(), notify=False)
    fam.invoice = Invoice.objects.get(household=fam.household)
    Mandate.objects.filter(household=fam.household).update(status="revoked")  # no debit: payable
    fam.attempt = PaymentAttempt.objects.create(
        invoice=fam.invoice,
        reference=f"X{last_name}P001",
        provider="payzen",
        amount=fam.invoice.total,
    )
    fam.payment = pay_invoice_at_desk(invoice=fam.invoice, amount="1.00", by=None)
    Mandate.objects.filter(household=fam.household).update(status="active")
    fam.mandate = Mandate.objects.filter(household=fam.household).first()
    fam.client = Client()
    fam.client.force_login(fam.user)
    return fam


@pytest.fixture
def world(castres, bondoufle, in_town, settings):
    settings.LOGIN_URL = "/connexion/"
    with in_town(bondoufle):
        alpha = _family(bondoufle, "Alpha")
        beta = _family(bondoufle, "Beta")
    with in_town(castres):
        # Castres's famille Gamma: primary keys equal to famille Alpha's in Bondoufle.
        gamma = _family(
            castres,
            "Gamma",
            pks={
                "invoice": alpha.invoice.pk,
                "payment": alpha.payment.pk,
                "mandate": alpha.mandate.pk,
            },
        )
    assert (gamma.invoice.pk, gamma.payment.pk, gamma.mandate.pk) == (
        alpha.invoice.pk,
        alpha.payment.pk,
        alpha.mandate.pk,
    )
    return alpha, beta, gamma


def _paths(table, owner):
    ids = {
        "invoice": owner.invoice.pk,
        "payment": owner.payment.pk,
        "mandate": owner.mandate.pk,
        "ref": owner.attempt.reference,
        "child": owner.child.pk,
    }
    for name, (template, methods) in table.items():
        for method in methods:
            yield name, method, template.format(**ids)


def _call(client, method, url):
    if url.startswith("api/") and method != "get":
        return getattr(client, method)(url, content_type="application/json")
    return getattr(client, method)(url)


def test_every_billing_url_is_in_the_matrix():
    resolver = get_resolver("portal.urls_tenant")
    named = {
        f"billing:{n}"
        for n in resolver.namespace_dict["billing"][1].reverse_dict
        if isinstance(n, str)
    }
    named |= {
        f"api:billing:{n}"
        for n in resolver.namespace_dict["api"][1].namespace_dict["billing"][1].reverse_dict
        if isinstance(n, str)
    }
    covered = set(FAMILY_PAGES) | set(FAMILY_API) | set(STAFF_PAGES)
    without_ids = {
        "billing:home",
        "billing:simulator",
        "billing:invoices",
        "billing:pay-all",  # the household's own unpaid invoices: tests/hardening matrix
        "billing:e-invoice",
        "billing:mandate",
        "billing:attestations",
        "billing:attestation-pdf",
        "billing:shared-custody",
        "billing:staff-payer-rules",
        "billing:payment-notify",
        "billing:demo-provider",
        "billing:staff",
        "billing:staff-run",
        "billing:staff-debits",
        "billing:staff-export",
        "billing:staff-export-file",
        "billing:staff-reject",
        "billing:staff-regie",
        "billing:staff-regie-csv",
        "billing:staff-regie-pdf",
        "billing:staff-family-desk-payment",  # a household: tests/hardening matrix
        # Configuration and overview (no family object): tests/test_backoffice_access.py
        "billing:staff-overview",
        "billing:config-payment",
        "billing:config-regies",
        "billing:config-tariffs",
        "billing:config-tariff-settings",
        "billing:config-tariff-version",
        "billing:config-tariff-delete",
        # The town's public tariff page (no family object).
        "billing:tariffs",
        # Town-scoped staff work (no family object, or a town's PES batch): each
        # declares its answer per role with @access, tested by tests/hardening's matrix.
        "billing:staff-credits",
        "billing:staff-credit",
        "billing:staff-unpaid",
        "billing:staff-unpaid-letter",
        "billing:staff-unpaid-pause",
        "billing:staff-unpaid-resume",
        "billing:staff-pes",
        "billing:staff-pes-build",
        "billing:staff-pes-batch",
        "billing:staff-pes-download",
        "billing:staff-pes-sent",
        "billing:staff-pes-ack",
        "billing:staff-pes-ack-file",
        # A family's reminder letter exists only for an overdue invoice:
        # tests/hardening's matrix tries it with its `overdue_invoice` object.
        "billing:invoice-reminder-pdf",
        "billing:staff-pes-civility",
        "billing:staff-accounting",
        "billing:staff-accounting-csv",
        "api:billing:info",
        "api:billing:simulator",
        "api:billing:invoices",
        "api:billing:mandates",
    }
    assert named - covered - without_ids == set()


def test_another_family_of_the_same_town_gets_404_everywhere(world, bondoufle, in_town):
    alpha, beta, _ = world
    for table in (FAMILY_PAGES, FAMILY_API):
        for name, method, path in _paths(table, alpha):
            response = _call(beta.client, method, f"/bondoufle/{path}")
            assert response.status_code == 404, (name, method, response.status_code)
    # Nothing of Alpha's changed.
    with in_town(bondoufle):
        assert Mandate.objects.get(pk=alpha.mandate.pk).status == "active"
        assert (
            not PaymentAttempt.objects.filter(invoice=alpha.invoice)
            .exclude(pk=alpha.attempt.pk)
            .exists()
        )
    # Lists show Beta's own rows only.
    for path in FAMILY_LISTS:
        response = beta.client.get(f"/bondoufle/{path}")
        assert response.status_code == 200, path
        assert (
            alpha.invoice.number not in response.content.decode()
            or alpha.invoice.number == beta.invoice.number
        )
        assert alpha.mandate.rum not in response.content.decode(), path


def test_a_family_of_another_town_with_the_same_ids_only_sees_its_own(world):
    alpha, _, gamma = world
    # In Castres, Alpha's ids are Gamma's own rows: Gamma sees ITS invoice.
    page = gamma.client.get(f"/castres/billing/factures/{alpha.invoice.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert gamma.invoice.number in html and "Gamma" in html and "Alpha" not in html
    api = gamma.client.get(f"/castres/api/billing/mandats/{alpha.mandate.pk}/").json()
    assert api["rum"] == gamma.mandate.rum != alpha.mandate.rum
    # Gamma's session does not exist in Bondoufle: every Bondoufle URL wants a login.
    for table in (FAMILY_PAGES, FAMILY_API, STAFF_PAGES):
        for name, method, path in _paths(table, alpha):
            response = _call(gamma.client, method, f"/bondoufle/{path}")
            assert response.status_code in (302, 403), (name, method, response.status_code)


def test_anonymous_visitors_are_sent_to_login(world):
    alpha, _, _ = world
    for name, method, path in _paths(FAMILY_PAGES, alpha):
        response = _call(Client(), method, f"/bondoufle/{path}")
        assert response.status_code == 302 and response["Location"].startswith("/connexion/"), name
    for name, method, path in _paths(FAMILY_API, alpha):
        assert _call(Client(), method, f"/bondoufle/{path}").status_code == 403, name


def test_staff_of_another_area_and_families_cannot_use_staff_pages(world, bondoufle, in_town):
    alpha, beta, _ = world
    from accounts.models import User

    with in_town(bondoufle):
        other = User.objects.create_user(
            username="agent-alsh", password="x" * 20, role="agent", service_areas=["alsh"]
        )
    client = Client()
    force_login_verified(client, other, bondoufle)  # staff: with their second factor
    for name, method, path in _paths(STAFF_PAGES, alpha):
        assert _call(client, method, f"/bondoufle/{path}").status_code == 403, name
        assert _call(beta.client, method, f"/bondoufle/{path}").status_code == 403, name
    with in_town(bondoufle):
        assert (
            not Payment.objects.filter(invoice=alpha.invoice).exclude(pk=alpha.payment.pk).exists()
        )
