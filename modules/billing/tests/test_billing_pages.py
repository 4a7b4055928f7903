"""Families' billing pages, the public simulator, PDFs, the payment redirect and
the demo provider page, staff pages (Django test client, real PostgreSQL)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.testing import force_login_verified
from core.french import format_date, format_short_date
from modules.billing import pdf, services
from modules.billing.desk import pay_invoice_at_desk
from modules.billing.french import moment_label
from modules.billing.models import Invoice, Payment, PaymentAttempt
from modules.billing.pricing import euros, simulate
from modules.billing.testing import make_invoiced_family

pytestmark = pytest.mark.django_db


@pytest.fixture
def login_path(settings):
    settings.LOGIN_URL = "/connexion/"  # the accounts app owns the real login page


@pytest.fixture
def alpha(castres, in_town, login_path):
    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Alpha")
    client = Client()
    with in_town(castres):
        client.force_login(fam.user)
    fam.client = client
    return fam


def test_family_sees_invoices_with_status_dates_and_payment_window(alpha, castres, in_town):
    response = alpha.client.get("/castres/billing/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    inv = alpha.invoice
    assert inv.number in html and "à payer" in html
    day, due = format_date(inv.invoice_date), format_date(inv.due_date)  # « lundi 7 … »
    assert day in html and due in html
    # Castres: from the invoice date at 09:30 to the due date at 23:59.
    assert f"du {day} à 09:30 au {due} à 23:59" in html
    assert moment_label(inv.payment_opens_at).endswith("09:30")
    with in_town(castres):
        Invoice.objects.filter(pk=inv.pk).update(status="partly_paid", amount_paid=D("1.00"))
    assert "partiellement payée" in alpha.client.get("/castres/billing/factures/").content.decode()


def test_invoice_page_explains_each_price(alpha, monkeypatch):
    monkeypatch.setenv("CASTRES_PAYZEN_SECRET_TEST", "TestKey0123456789abcdef")
    html = alpha.client.get(f"/castres/billing/factures/{alpha.invoice.pk}/").content.decode()
    assert "Comment ce prix est calculé" in html
    assert "QF non communiqué, tarif le plus élevé" in html
    assert "Payer" in html and "par carte bancaire" in html
    # The lines' table gives the short date (a phone shows it without scrolling).
    day = alpha.bookings[0].slot.day
    assert f"<td>{format_short_date(day)}</td>" in html
    assert f"<td>{format_date(day)}</td>" not in html


def test_invoice_pdf_download_and_its_content(alpha, castres, in_town):
    response = alpha.client.get(f"/castres/billing/factures/{alpha.invoice.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="facture-{alpha.invoice.number}.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    # What the PDF is made of: town header, payer, month, dated lines per child,
    # totals, due date, how to pay.
    from django.template.loader import render_to_string

    with in_town(castres):
        _, invoicing = services.town_settings(castres)
        ctx = pdf.invoice_context(
            alpha.invoice,
            castres,
            how_to_pay=invoicing.how_to_pay,
            pay_url="https://portail.example/castres/billing/",
        )
        html = render_to_string("billing/pdf/invoice.html", ctx)
    for text in (
        "Castres",
        "110 boulevard Maréchal Joffre",
        "Alex Alpha",
        "1 rue Haute",
        alpha.invoice.period_label,
        "Camille Alpha",
        euros(alpha.invoice.total),
        format_date(alpha.invoice.due_date),
        "PayZen",
        "Reste à payer",
        format_date(alpha.bookings[0].slot.day),
    ):
        assert text in html, text


def test_pay_redirects_to_the_providers_page_only(alpha, castres, in_town, monkeypatch, settings):
    settings.PAYMENT_SIMULATOR = False  # as in production: PayZen's own page
    monkeypatch.setenv("CASTRES_PAYZEN_SECRET_TEST", "TestKey0123456789abcdef")
    response = alpha.client.post(f"/castres/billing/factures/{alpha.invoice.pk}/payer/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'action="https://secure.payzen.eu/vads-payment/"' in html
    notify = "http://testserver/castres/billing/paiement/notification/"
    assert f'name="vads_url_check" value="{notify}"' in html
    # Only hidden fields: card data is typed on PayZen's page, never on ours.
    assert html.count("<input") == html.count('<input type="hidden"')
    # The form sends itself: its script carries the page's CSP nonce (without a
    # script the family presses "Continuer vers le paiement").
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">document.getElementById("vers-prestataire")' in html
    with in_town(castres):
        attempt = PaymentAttempt.objects.get(invoice=alpha.invoice)
        assert attempt.reference == f"{alpha.invoice.payment_reference}P001"
        assert attempt.amount == alpha.invoice.total


def test_pay_without_the_providers_secret_is_a_french_message(alpha, monkeypatch):
    monkeypatch.delenv("CASTRES_PAYZEN_SECRET_TEST", raising=False)
    response = alpha.client.post(
        f"/castres/billing/factures/{alpha.invoice.pk}/payer/", follow=True
    )
    from html import unescape

    html = unescape(response.content.decode())
    # Never the server's cause (the missing variable): the other ways to pay.
    assert "CASTRES_PAYZEN_SECRET_TEST" not in html and "variable" not in html
    assert "Le paiement en ligne n'est pas disponible pour le moment." in html
    # no pay button while online payment is unusable (paying at a tobacconist stays offered)
    assert "par carte bancaire</button>" not in html and '/payer/"' not in html
    assert response.redirect_chain[-1][0].endswith(f"/factures/{alpha.invoice.pk}/")


def test_dummy_provider_demo_page_round_trip(
    alpha, castres, in_town, monkeypatch, django_capture_on_commit_callbacks
):
    from modules.billing import fake_provider
    from tenants.testing import edit_town_config

    edit_town_config(castres, {"payment": {"provider": "dummy"}})
    response = alpha.client.post(f"/castres/billing/factures/{alpha.invoice.pk}/payer/")
    assert response.status_code == 302
    target = response["Location"]
    assert target.startswith("/castres/billing/paiement/demo/?")
    page = alpha.client.get(target)
    assert page.status_code == 200 and euros(alpha.invoice.total) in page.content.decode()
    fields = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
    # The demo page's server-to-server call, routed to the test client.
    sent = []

    def urlopen(request, timeout=None):
        sent.append(request.data.decode())
        town = in_town
        del town
        result = Client().post(
            urlsplit(request.full_url).path,
            data=request.data,
            content_type="application/x-www-form-urlencoded",
        )
        assert result.status_code == 200, result.content

        class Done:
            def __enter__(self):
                return self

            def __exit__(self, *a):
                return False

        return Done()

    monkeypatch.setattr(fake_provider.urllib.request, "urlopen", urlopen)
    with django_capture_on_commit_callbacks(execute=True):
        back = alpha.client.post("/castres/billing/paiement/demo/", {**fields, "decision": "pay"})
    assert back.status_code == 302 and "/castres/billing/paiement/retour/?ref=" in back["Location"]
    assert "signed=1" in sent[0] and "ok=1" in sent[0]
    shown = alpha.client.get(back["Location"]).content.decode()
    assert "reçu. Merci" in shown
    with in_town(castres):
        alpha.invoice.refresh_from_db()
        assert alpha.invoice.status == "paid"
        payment = Payment.objects.get(invoice=alpha.invoice)
    assert [m.subject for m in mail.outbox if "reçu" in m.subject]
    # The receipt PDF of that payment.
    receipt = alpha.client.get(f"/castres/billing/paiements/{payment.pk}/recu/")
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF-")
    # An open redirect through the demo page is refused.
    evil = {**fields, "return_url": "https://evil.example/castres/billing/paiement/retour/"}
    assert alpha.client.get("/castres/billing/paiement/demo/", evil).status_code == 400


def test_demo_provider_page_is_off_in_production_settings_and_for_real_providers(
    alpha, settings, castres, in_town
):
    assert (
        alpha.client.get("/castres/billing/paiement/demo/?transaction_id=1&orderid=F1").status_code
        == 404
    )  # Castres uses PayZen
    from tenants.testing import edit_town_config

    edit_town_config(castres, {"payment": {"provider": "dummy"}})
    settings.BILLING_DEMO_PAYMENT_PAGE = False
    assert (
        alpha.client.get("/castres/billing/paiement/demo/?transaction_id=1&orderid=F1").status_code
        == 404
    )
    from django.conf import settings as django_settings

    text = (django_settings.PLATFORM_DIR / "portal" / "settings" / "prod.py").read_text()
    assert "BILLING_DEMO_PAYMENT_PAGE = False" in text
    assert "BILLING_ACCEPT_TEST_PAYMENTS = False" in text


def test_browser_return_only_displays(alpha, castres, in_town, monkeypatch):
    monkeypatch.setenv("CASTRES_PAYZEN_SECRET_TEST", "TestKey0123456789abcdef")
    alpha.client.post(f"/castres/billing/factures/{alpha.invoice.pk}/payer/")
    with in_town(castres):
        attempt = PaymentAttempt.objects.get(invoice=alpha.invoice)
    # A "successful" return carrying forged provider fields changes nothing.
    html = alpha.client.post(
        f"/castres/billing/paiement/retour/?ref={attempt.reference}",
        {"vads_result": "00", "vads_trans_status": "AUTHORISED"},
    ).content.decode()
    assert "en cours de confirmation" in html
    with in_town(castres):
        assert not Payment.objects.exists()
        assert Invoice.objects.get(pk=alpha.invoice.pk).status == "to_pay"


def test_payment_window_closed_or_not_open(alpha, castres, in_town):
    from datetime import timedelta

    with in_town(castres):
        inv = Invoice.objects.get(pk=alpha.invoice.pk)
        late = inv.payment_closes_at + timedelta(minutes=1)
        early = inv.payment_opens_at - timedelta(minutes=1)
        assert "était possible jusqu'au" in services.online_payment_refusal(inv, now=late)
        assert services.online_payment_refusal(inv, now=early) == (
            f"Le paiement en ligne ouvrira le {moment_label(inv.payment_opens_at)}."
        )
        with pytest.raises(services.BillingError, match="ouvrira le"):
            services.start_online_payment(
                invoice=inv, user=alpha.user, return_url="x", notification_url="y", now=early
            )


def test_public_simulator_no_login_same_prices_as_billing(castres, in_town):
    client = Client()
    assert client.get("/castres/billing/simulateur/").status_code == 200
    html = client.post(
        "/castres/billing/simulateur/",
        {"mode": "qf", "qf": "650", "child_rank": "1", "resident": "on"},
    ).content.decode()
    from modules.billing.simulation import (
        SCHOOL,
        counted_services,
        next_month,
        simulation_inputs,
    )

    with in_town(castres):
        tariffs, _ = services.town_settings(castres)
        first, last = next_month(timezone.localdate())
        codes = list(tariffs.services)
        facts, counts = simulation_inputs(
            codes,
            first=first,
            last=last,
            hourly_default=lambda c: tariffs.tariff(c).sessions_per_month,
        )
    expected = simulate(
        tariffs,
        day=timezone.localdate(),
        qf=650,
        sessions_per_month=counts,
        counted=counted_services(facts, SCHOOL).counted,
    )
    canteen = next(s for s in expected.services if s.service_code == "restauration-scolaire")
    assert euros(canteen.line.amount) in html and canteen.line.explanation in html
    assert euros(expected.monthly_total) in html  # a school child: no crèche hours
    html = client.post(
        "/castres/billing/simulateur/",
        {
            "mode": "revenus",
            "annual_income": "30000",
            "monthly_benefits": "100",
            "children": "2",
            "child_rank": "1",
            "resident": "on",
        },
    ).content.decode()
    assert "/ 3 parts = 866 €" in html  # (30 000 / 12 + 100) / 3


def test_simulator_price_is_the_invoiced_price(alpha, castres, in_town):
    with in_town(castres):
        tariffs, _ = services.town_settings(castres)
        line = alpha.invoice.lines.first()
    simulated = simulate(tariffs, day=line.day, qf=None, services=["restauration-scolaire"])
    assert simulated.services[0].line.amount == line.amount
    assert simulated.services[0].line.explanation == line.explanation


@pytest.mark.parametrize(
    "data,message",
    [
        ({"mode": "qf", "qf": "-5"}, "Le quotient familial ne peut pas être négatif."),
        ({"mode": "qf", "qf": "beaucoup"}, "Saisissez un nombre entier d&#x27;euros"),
        ({"mode": "revenus"}, "Indiquez les revenus annuels du foyer."),
        (
            {"mode": "revenus", "annual_income": "abc", "children": "1"},
            "Saisissez un montant en euros",
        ),
    ],
)
def test_simulator_bad_input_gets_french_messages(data, message):
    response = Client().post("/castres/billing/simulateur/", data)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_simulator_api(castres):
    client = Client()
    ok = client.post(
        "/castres/api/billing/simulateur/", {"qf": 650}, content_type="application/json"
    )
    assert ok.status_code == 200
    body = ok.json()
    assert body["qf"] == 650 and body["services"] and "monthly_total" in body
    # In the order of the town's YAML (Castres: the school restaurant first).
    assert [s["service"] for s in body["services"]][:2] == [
        "restauration-scolaire",
        "accueil-matin",
    ]
    # The total adds only what one child can attend (a school child: no crèche).
    creche = next(s for s in body["services"] if s["service"] == "creche")
    assert creche["counted"] is False
    assert D(body["monthly_total"]) == sum(
        (D(s["monthly_estimate"]) for s in body["services"] if s["counted"]), D(0)
    )
    young = client.post(
        "/castres/api/billing/simulateur/",
        {"qf": 650, "child": "petite_enfance"},
        content_type="application/json",
    ).json()
    assert [s["service"] for s in young["services"] if s["counted"]] == ["creche"]
    odd = client.post(
        "/castres/api/billing/simulateur/",
        {"qf": 650, "child": "adulte"},
        content_type="application/json",
    )
    assert odd.status_code == 400 and odd["Content-Type"] == "application/problem+json"
    bad = client.post(
        "/castres/api/billing/simulateur/", {"qf": -3}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    assert "ne peut pas être négatif" in str(bad.json()["errors"])
    missing = client.post(
        "/castres/api/billing/simulateur/",
        {"annual_income": 20000},
        content_type="application/json",
    )
    assert missing.status_code == 400 and "nombre d'enfants" in missing.json()["detail"]


def test_family_api_lists_invoices_with_lines_and_explanations(alpha):
    listing = alpha.client.get("/castres/api/billing/factures/").json()
    assert [i["number"] for i in listing] == [alpha.invoice.number]
    assert listing[0]["status_label"] == "à payer"
    assert listing[0]["online_payment"] == {"possible": True, "reason": ""}
    detail = alpha.client.get(f"/castres/api/billing/factures/{alpha.invoice.pk}/").json()
    assert detail["lines"][0]["explanation"].startswith("QF non communiqué")


def test_e_invoice_opt_in(alpha, castres, bondoufle, in_town):
    response = alpha.client.post(
        "/castres/billing/facture-en-ligne/", {"e_invoice": "on"}, follow=True
    )
    assert "en ligne uniquement" in response.content.decode()
    with in_town(castres):
        assert alpha.household.billing_preference.e_invoice is True
    with in_town(bondoufle):
        fam = make_invoiced_family(bondoufle, last_name="Beta", run=False)
        client = Client()
        client.force_login(fam.user)
    assert client.get("/bondoufle/billing/facture-en-ligne/").status_code == 404


def test_anonymous_and_staff_do_not_reach_family_pages(alpha, castres, in_town):
    anonymous = Client().get(f"/castres/billing/factures/{alpha.invoice.pk}/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/connexion/")
    from accounts.models import User

    with in_town(castres):
        agent = User.objects.create_user(
            username="agent", password="x" * 20, role="agent", service_areas=["billing"]
        )
    staff = Client()
    force_login_verified(staff, agent, castres)
    assert staff.get(f"/castres/billing/factures/{alpha.invoice.pk}/").status_code == 404


def test_staff_run_credit_desk_payment_and_permissions(alpha, castres, in_town):
    from accounts.models import User

    with in_town(castres):
        agent = User.objects.create_user(
            username="agent-f", password="x" * 20, role="agent", service_areas=["billing"]
        )
        other = User.objects.create_user(
            username="agent-a", password="x" * 20, role="agent", service_areas=["alsh"]
        )
    staff, stranger = Client(), Client()
    force_login_verified(staff, agent, castres)
    force_login_verified(stranger, other, castres)
    assert stranger.get("/castres/billing/gestion/").status_code == 403
    assert alpha.client.get("/castres/billing/gestion/").status_code == 403
    page = staff.get("/castres/billing/gestion/")
    assert page.status_code == 200 and alpha.invoice.number in page.content.decode()
    done = staff.post("/castres/billing/gestion/facturer/", {"month": "2026-13"}, follow=True)
    assert "Mois invalide" in done.content.decode()
    this_month = timezone.localdate().strftime("%Y-%m")
    done = staff.post("/castres/billing/gestion/facturer/", {"month": this_month}, follow=True)
    assert "n&#x27;est pas terminé" in done.content.decode()
    url = f"/castres/billing/gestion/factures/{alpha.invoice.pk}/"
    invoice_page = staff.get(url)
    assert invoice_page.status_code == 200
    short = format_short_date(alpha.bookings[0].slot.day)
    assert f"<td>{short}</td>" in invoice_page.content.decode()
    desk = {"means": "cheque", "cheque_number": "123", "bank": "CIC"}
    key = f"invoice_{alpha.invoice.pk}"
    staff.post(
        url + "encaissement/",
        {**desk, key: "1.00", "idempotency_key": "6f1f6d0e-8a5b-4a43-9a55-0d5f6d7c1a01"},
    )
    with in_town(castres):
        inv = Invoice.objects.get(pk=alpha.invoice.pk)
        assert (inv.status, inv.amount_paid) == ("partly_paid", D("1.00"))
    too_much = staff.post(
        url + "encaissement/",
        {**desk, key: "9999", "idempotency_key": "6f1f6d0e-8a5b-4a43-9a55-0d5f6d7c1a02"},
        follow=True,
    )
    assert "au plus le reste à payer" in too_much.content.decode()
    refused = staff.post(url + "avoir/", {"reason": ""}, follow=True)
    assert "Indiquez le motif de l&#x27;avoir." in refused.content.decode()
    staff.post(url + "avoir/", {"reason": "Erreur de pointage", "corrective": "1"})
    with in_town(castres):
        inv.refresh_from_db()
        assert inv.status == "cancelled"
        kinds = sorted(inv.corrections.values_list("kind", flat=True))
    assert kinds == ["corrective", "credit"]


def test_fiscal_attestation_pdf(castres, in_town, login_path):
    from modules.billing.selectors import fiscal_attestation

    with in_town(castres):
        fam = make_invoiced_family(
            castres,
            last_name="Gamma",
            service="creche",
            birth_date=date(timezone.localdate().year - 3, 2, 1),
        )
        pay_invoice_at_desk(invoice=fam.invoice, amount=fam.invoice.total, by=None)
        year = timezone.localdate().year
        attestation = fiscal_attestation(fam.household, year=year, today=timezone.localdate())
        assert [(c.name, c.amount) for c in attestation.children] == [
            ("Camille Gamma", fam.invoice.total)
        ]
        client = Client()
        client.force_login(fam.user)
    page = client.get("/castres/billing/attestations/")
    assert f"Attestation {year}" in page.content.decode()
    response = client.get(f"/castres/billing/attestations/{year}/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert client.get(f"/castres/billing/attestations/{year + 1}/").status_code == 404


def test_api_schema_has_billing_and_no_warning(castres):
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    response = Client().get("/castres/api/schema/")
    assert response.status_code == 200
    assert not GENERATOR_STATS  # no warning nor error from drf-spectacular
    for path in (
        "/api/billing/factures/{id}/",
        "/api/billing/mandats/",
        "/api/billing/simulateur/",
        "/api/billing/factures/{id}/paiement/",
    ):
        assert path in response.content.decode()


def test_menu_shows_only_what_the_town_offers(alpha):
    html = alpha.client.get("/castres/billing/").content.decode()
    assert "Facture en ligne" in html  # Castres offers e-invoice...
    assert "/castres/billing/prelevement/" not in html  # ...but no direct debit
