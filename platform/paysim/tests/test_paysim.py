"""The demo's payment-provider simulator: our real adapter (eopayment, billing's
gateway and notification handling) against the simulator's real protocols,
and never in production."""

from __future__ import annotations

import html as htmllib
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from modules.billing.models import Invoice, Payment
from modules.billing.testing import make_invoiced_family
from paysim import keys
from tenants.testing import edit_town_config

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def family(castres, in_town, settings):
    settings.LOGIN_URL = "/connexion/"
    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Simule")
    fam.client = Client()
    with in_town(castres):
        fam.client.force_login(fam.user)
    return fam


@pytest.fixture
def provider_calls(monkeypatch, django_capture_on_commit_callbacks):
    """The simulator's server-to-server calls, delivered to this process's
    test client (no server runs here); the run command's test makes them
    over real HTTP."""
    import urllib.request

    calls = []

    class Done:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(request, timeout=None):
        url = request if isinstance(request, str) else request.full_url
        parts = urlsplit(url)
        if isinstance(request, str):
            answer = Client().get(parts.path + "?" + parts.query)
        else:
            answer = Client().post(
                parts.path, data=request.data, content_type="application/x-www-form-urlencoded"
            )
        calls.append((url, answer.status_code, answer.content.decode()))
        return Done()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return calls


def _form(page: str, marker: str) -> tuple[str, dict]:
    """The action and hidden fields of the page's form holding `marker`."""
    form = next(f for f in re.findall(r"<form.*?</form>", page, re.S) if marker in f)
    action = re.search(r'action="([^"]+)"', form).group(1)
    fields = {
        htmllib.unescape(n): htmllib.unescape(v)
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    }
    return htmllib.unescape(action), fields


def _pay_through_simulator(fam, provider_calls, django_capture_on_commit_callbacks, decision):
    page = fam.client.post(f"/castres/billing/factures/{fam.invoice.pk}/payer/")
    assert page.status_code == 200
    action, fields = _form(page.content.decode(), "vers-prestataire")
    bank = Client()  # the family's browser on the provider's site
    shown = bank.post(action, fields)
    text = shown.content.decode()
    assert shown.status_code == 200, text
    assert "Démonstration, aucun paiement réel" in text
    assert re.sub(r"\s", " ", fam.invoice.balance.to_eng_string()).replace(".", ",") in text
    with django_capture_on_commit_callbacks(execute=True):
        back = bank.post(action, {**fields, "decision": decision})
    assert back.status_code == 302
    return action, fields, back["Location"]


def test_payzen_form_ipn_and_return_mark_the_invoice_paid(
    family, castres, in_town, monkeypatch, provider_calls, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("CASTRES_PAYZEN_SECRET_TEST", keys.PAYZEN_KEY)
    action, fields, back = _pay_through_simulator(
        family, provider_calls, django_capture_on_commit_callbacks, "pay"
    )
    assert action == "/simulateur-paiement/payzen/" and "vads_url_check" in fields
    [(url, status, body)] = provider_calls  # the signed IPN, accepted by our handler
    assert url.endswith("/castres/billing/paiement/notification/") and status == 200, body
    assert "/castres/billing/paiement/retour/?ref=" in back
    assert (
        "reçu. Merci"
        in family.client.get(urlsplit(back).path + "?" + urlsplit(back).query).content.decode()
    )
    with in_town(castres):
        family.invoice.refresh_from_db()
        assert family.invoice.status == Invoice.Status.PAID
        assert Payment.objects.filter(invoice=family.invoice).count() == 1


def test_payzen_refusal_and_forged_forms(
    family, castres, in_town, monkeypatch, provider_calls, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("CASTRES_PAYZEN_SECRET_TEST", keys.PAYZEN_KEY)
    action, fields, _ = _pay_through_simulator(
        family, provider_calls, django_capture_on_commit_callbacks, "refuse"
    )
    with in_town(castres):
        family.invoice.refresh_from_db()
        assert family.invoice.status == Invoice.Status.TO_PAY
    # A form whose amount was changed after signing is refused by the "bank".
    forged = Client().post(action, {**fields, "vads_amount": "1"})
    assert forged.status_code == 400 and "signature" in forged.content.decode()
    # Return and notification URLs elsewhere than the serving site: refused.
    elsewhere = {**fields, "vads_url_check": "http://evil.example/x"}
    from paysim.views import payzen_signature

    elsewhere["signature"] = payzen_signature(elsewhere, keys.PAYZEN_KEY)
    assert Client().post(action, {**elsewhere, "decision": "pay"}).status_code == 400


def test_paybox_form_signed_answer_and_return(
    family, castres, in_town, monkeypatch, provider_calls, django_capture_on_commit_callbacks
):
    payment = {
        "provider": "paybox",
        "options": {"site": "1999888", "rang": "32", "identifiant": "107904482"},
        "secrets": {"shared_secret": "CASTRES_PAYBOX_HMAC"},
    }
    edit_town_config(castres, {"payment": payment})
    monkeypatch.setenv("CASTRES_PAYBOX_HMAC", keys.PAYBOX_HMAC_HEX)
    action, fields, back = _pay_through_simulator(
        family, provider_calls, django_capture_on_commit_callbacks, "pay"
    )
    assert action == "/simulateur-paiement/paybox/" and "PBX_HMAC" in fields
    [(url, status, body)] = provider_calls
    assert "/castres/billing/paiement/notification/?montant=" in url and status == 200, body
    assert "signature=" in back
    with in_town(castres):
        family.invoice.refresh_from_db()
        assert family.invoice.status == Invoice.Status.PAID


def test_paybox_answer_signed_by_another_key_is_refused():
    """Our gateway trusts the simulator's demo key only: an answer signed with
    any other RSA key stays unsigned, hence refused."""
    from types import SimpleNamespace

    from Cryptodome.PublicKey import RSA

    from modules.billing.payments import gateway_from_settings
    from paysim.views import paybox_answer

    values = {
        "montant": "100",
        "reference": "X!F1",
        "code_autorisation": "1",
        "erreur": "00000",
        "numero_appel": "1",
        "numero_transaction": "1",
        "date_transaction": "20270101",
        "heure_transaction": "10:00:00",
    }
    row = SimpleNamespace(
        kind="paybox",
        options={"site": "1999888", "rang": "32", "identifiant": "107904482"},
        secret_env={"shared_secret": "K"},
    )
    gateway = gateway_from_settings(
        row, environ={"K": keys.PAYBOX_HMAC_HEX}, paybox_public_key=keys.paybox_public_key_pem()
    )
    assert gateway.parse_notification(paybox_answer(values)).signed is True
    forged = paybox_answer(values, key=RSA.generate(1024))
    assert gateway.parse_notification(forged).signed is False
    without_demo_key = gateway_from_settings(row, environ={"K": keys.PAYBOX_HMAC_HEX})
    assert without_demo_key.parse_notification(paybox_answer(values)).signed is False


def test_simulator_is_off_without_the_setting(family, settings):
    settings.PAYMENT_SIMULATOR = False
    assert Client().post("/simulateur-paiement/payzen/", {"vads_amount": "1"}).status_code == 404


@pytest.mark.slow
def test_production_settings_refuse_the_simulator():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.prod",
        SECRET_KEY="prod-like-" + "k7Qz9vX2mN4pL8rT6wY1bC3dF5gH0jS" * 2,
        ALLOWED_HOSTS="guichet-famille.example.fr",
        DATABASE_URL="postgres://guichet:secret@db.internal:5432/guichet",
        REDIS_URL="redis://redis.internal:6379/0",
        VAULT_MASTER_KEY="prod-like-vault-" + "Zx8Qw3Er6Ty9Ui2Op5As7Df0Gh4Jk1Lm" * 2,
    )
    code = (
        "import django; django.setup();"
        "from django.conf import settings; from django.urls import resolve, Resolver404;"
        "print('simulator', settings.PAYMENT_SIMULATOR);"
        "\ntry:\n resolve('/simulateur-paiement/payzen/', urlconf='portal.urls_public')"
        "\nexcept Resolver404:\n print('not routed')"
    )
    run = [sys.executable, "-c", f"import manage; {code}"]
    off = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert "simulator False" in off.stdout and "not routed" in off.stdout, off.stderr
    on = subprocess.run(
        run, cwd=ROOT, env={**env, "PAYMENT_SIMULATOR": "1"}, capture_output=True, text=True
    )
    assert on.returncode != 0
    assert ImproperlyConfigured.__name__ in on.stderr and "jamais servi en production" in on.stderr


@pytest.fixture
def soap_over_test_client(monkeypatch, settings):
    """eopayment's PayFiP client (zeep, over `requests`) reaches the simulator
    through this process's test client: no server runs here (the run command's
    test uses real HTTP). Only the HTTP transport is replaced; zeep, eopayment
    and our gateway run as in production."""
    import requests
    from django.db import connection
    from django.urls import get_script_prefix, set_script_prefix
    from requests.adapters import HTTPAdapter

    settings.SITE_URL = "http://testserver"
    calls = []

    def send(adapter, request, **kwargs):
        parts = urlsplit(request.url)
        assert parts.netloc == "testserver", request.url  # nothing leaves the machine
        path = parts.path + ("?" + parts.query if parts.query else "")
        # A real server answers on another thread and connection; in-process, the
        # calling request's schema and script prefix are kept around the call.
        tenant, prefix = connection.tenant, get_script_prefix()
        try:
            if request.method == "POST":
                answer = Client().post(
                    path, data=request.body, content_type=request.headers.get("Content-Type")
                )
            else:
                answer = Client().get(path)
        finally:
            connection.set_tenant(tenant)
            set_script_prefix(prefix)
        calls.append((request.method, parts.path, answer.status_code))
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers.update({k: v for k, v in answer.items()})
        response.url, response.request = request.url, request
        response.encoding = "utf-8"
        return response

    monkeypatch.setattr(HTTPAdapter, "send", send)
    return calls


def test_payfip_soap_page_notification_and_return_mark_the_invoice_paid(
    family,
    castres,
    in_town,
    provider_calls,
    soap_over_test_client,
    django_capture_on_commit_callbacks,
):
    """A town on PayFiP pays end to end: our gateway asks the simulator's SOAP
    service for an operation (creerPaiementSecurise, through eopayment and
    zeep), the family pays on the simulator's page, PayFiP's notification
    (idop only, unsigned) makes our side ASK the simulator
    (recupererDetailPaiementSecurise) before marking the invoice paid."""
    payment = {"provider": "payfip_ws", "options": {"numcli": "123456", "saisie": "T"}}
    edit_town_config(castres, {"payment": payment})
    start = family.client.post(f"/castres/billing/factures/{family.invoice.pk}/payer/")
    assert start.status_code == 302, start.content.decode()[-1500:]
    page_url = start["Location"]
    assert page_url.startswith("/simulateur-paiement/payfip/?idop="), page_url
    assert ("POST", "/simulateur-paiement/payfip/securite", 200) in soap_over_test_client
    bank = Client()
    shown = bank.get(page_url)
    text = shown.content.decode()
    assert shown.status_code == 200 and "Démonstration, aucun paiement réel" in text
    assert "PayFiP" in text
    idop = page_url.partition("idop=")[2]
    # Before the family decides, PayFiP answers « in progress » (P5): not paid.
    with in_town(castres):
        family.invoice.refresh_from_db()
        assert family.invoice.status == Invoice.Status.TO_PAY
    with django_capture_on_commit_callbacks(execute=True):
        back = bank.post("/simulateur-paiement/payfip/", {"idop": idop, "decision": "pay"})
    assert back.status_code == 302 and f"idop={idop}" in back["Location"]
    [(url, status, body)] = provider_calls  # idop only: our side asked PayFiP
    assert url.endswith("/castres/billing/paiement/notification/") and status == 200, body
    returned = family.client.get(
        urlsplit(back["Location"]).path + "?" + urlsplit(back["Location"]).query
    )
    assert "reçu. Merci" in returned.content.decode()
    with in_town(castres):
        family.invoice.refresh_from_db()
        assert family.invoice.status == Invoice.Status.PAID
        assert Payment.objects.filter(invoice=family.invoice).count() == 1
    # A notification naming an unknown operation is refused (P1), nothing paid twice.
    forged = Client().post(
        "/castres/billing/paiement/notification/",
        "idop=00000000-0000-0000-0000-000000000000",
        content_type="application/x-www-form-urlencoded",
    )
    assert forged.status_code in (400, 503)
    # A SOAP request the service cannot read, or a page without operation.
    assert (
        Client()
        .post("/simulateur-paiement/payfip/securite", "<pas du xml", content_type="text/xml")
        .status_code
        == 400
    )
    assert Client().get("/simulateur-paiement/payfip/?idop=inconnu").status_code == 404
