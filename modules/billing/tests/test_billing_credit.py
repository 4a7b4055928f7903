"""A second paid transaction for a settled invoice (issue #17): the family
opened the payment page in two tabs and paid in both. Through the real path —
our pay view, eopayment's PayZen client, the payment simulator playing PayZen
(its signed IPN posted to our notification URL) — the second transaction
becomes a credit on the household's account, the régie is alerted (counter on
the staff home, e-mail to the town's contact address, a page to say what was
done), the family is told by e-mail and on its invoices page. Never a second
payment of the invoice, never a 500, never lost money."""

from __future__ import annotations

import html as htmllib
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from accounts.testing import force_login_verified
from modules.billing.models import AccountCredit, Invoice, Payment
from modules.billing.pricing import euros
from modules.billing.testing import make_invoiced_family
from paysim import keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(castres, in_town, settings, monkeypatch):
    settings.LOGIN_URL = "/connexion/"
    monkeypatch.setenv("CASTRES_PAYZEN_SECRET_TEST", keys.PAYZEN_KEY)
    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Deuxfois")
    fam.client = Client()
    with in_town(castres):
        fam.client.force_login(fam.user)
    return fam


@pytest.fixture
def provider_calls(monkeypatch):
    """The simulator's server-to-server IPNs, delivered to this process's test
    client (as in paysim's own tests): (url, body sent, status, answer)."""
    import urllib.request

    calls = []

    class Done:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(request, timeout=None):
        path = urlsplit(request.full_url).path
        answer = Client().post(
            path, data=request.data, content_type="application/x-www-form-urlencoded"
        )
        calls.append((path, request.data, answer.status_code, answer.content.decode()))
        return Done()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return calls


def provider_form(fam) -> tuple[str, dict]:
    """« Payer » on our site: the signed form sent to the provider."""
    page = fam.client.post(f"/castres/billing/factures/{fam.invoice.pk}/payer/")
    assert page.status_code == 200
    form = next(
        f
        for f in re.findall(r"<form.*?</form>", page.content.decode(), re.S)
        if "vers-prestataire" in f
    )
    action = htmllib.unescape(re.search(r'action="([^"]+)"', form).group(1))
    fields = {
        htmllib.unescape(n): htmllib.unescape(v)
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    }
    return action, fields


def pay_at_provider(action, fields, capture):
    with capture(execute=True):
        back = Client().post(action, {**fields, "decision": "pay"})
    assert back.status_code == 302, back.content


def test_second_paid_transaction_becomes_a_credit_and_alerts_the_regie(
    family, castres, in_town, provider_calls, django_capture_on_commit_callbacks
):
    total = family.invoice.total
    # Two tabs: both opened the provider's page before either paid.
    first = provider_form(family)
    second = provider_form(family)
    assert first[1]["vads_trans_id"] != second[1]["vads_trans_id"]
    pay_at_provider(*first, django_capture_on_commit_callbacks)
    pay_at_provider(*second, django_capture_on_commit_callbacks)

    # Both signed IPNs were accepted (the provider does not retry, no 500).
    assert [(c[0], c[2]) for c in provider_calls] == [
        ("/castres/billing/paiement/notification/", 200)
    ] * 2, provider_calls
    with in_town(castres):
        invoice = Invoice.objects.get(pk=family.invoice.pk)
        assert (invoice.status, invoice.amount_paid, invoice.balance) == ("paid", total, 0)
        assert Payment.objects.filter(invoice=invoice).count() == 1
        credit = AccountCredit.objects.get(household=family.household)
        assert (credit.amount, credit.status, credit.invoice_id) == (total, "open", invoice.pk)
        assert credit.provider == "payzen"
        assert credit.transaction_id.endswith(second[1]["vads_trans_id"])
        assert "signature" not in credit.bank_data

    # A replay of the second IPN records nothing more.
    path, body, *_ = provider_calls[1]
    with django_capture_on_commit_callbacks(execute=True):
        again = Client().post(path, data=body, content_type="application/x-www-form-urlencoded")
    assert again.status_code == 200
    with in_town(castres):
        assert AccountCredit.objects.filter(household=family.household).count() == 1
        assert Payment.objects.filter(invoice=family.invoice).count() == 1

    # E-mails: one receipt, one message to the family about its credit, one
    # alert to the régie (the town's contact address).
    receipts = [m for m in mail.outbox if "reçu de paiement" in m.subject]
    told = [m for m in mail.outbox if "crédit de votre compte" in m.subject]
    alerts = [m for m in mail.outbox if "trop-perçu" in m.subject]
    assert len(receipts) == len(told) == len(alerts) == 1
    assert told[0].to == [family.user.email] and euros(total) in told[0].body
    assert alerts[0].to == ["espace-famille@ville-castres.fr"]
    assert family.invoice.number in alerts[0].body and euros(total) in alerts[0].body
    assert "/castres/billing/gestion/trop-percus/" in alerts[0].body

    # The family sees the credit on its invoices page.
    page = family.client.get("/castres/billing/factures/").content.decode()
    assert f"Vous avez {euros(total)} au crédit de votre compte" in htmllib.unescape(page)

    # The régie: a counter on the staff home, a page to say what was done.
    from accounts.models import User

    with in_town(castres):
        agent = User.objects.create_user(
            username="agent-regie", password="x" * 20, role="agent", service_areas=["billing"]
        )
    staff = Client()
    force_login_verified(staff, agent, castres)
    home = htmllib.unescape(staff.get("/castres/gestion/").content.decode())
    assert "Paiements reçus en trop, à rembourser ou déduire" in home
    assert "/castres/billing/gestion/trop-percus/" in home
    listing = staff.get("/castres/billing/gestion/trop-percus/")
    assert listing.status_code == 200
    shown = htmllib.unescape(listing.content.decode())
    assert family.household.name in shown and euros(total) in shown
    # Bad input: French messages, nothing changes, never a 500.
    for data, message in [
        ({"credit": str(credit.pk), "note": ""}, "Indiquez la suite donnée"),
        ({"credit": "abc", "note": "Remboursé"}, "nombre entier"),
        ({"credit": "999999", "note": "Remboursé"}, "déjà traité ou n'existe pas"),
        ({"credit": str(credit.pk), "note": "x" * 300}, "255"),
    ]:
        answer = staff.post("/castres/billing/gestion/trop-percus/", data, follow=True)
        assert answer.status_code == 200 and message in htmllib.unescape(answer.content.decode()), (
            data
        )
    with in_town(castres):
        assert AccountCredit.objects.get(pk=credit.pk).status == "open"
    done = staff.post(
        "/castres/billing/gestion/trop-percus/",
        {"credit": str(credit.pk), "note": "Remboursé par virement le 9 décembre"},
        follow=True,
    )
    assert "marqué traité" in htmllib.unescape(done.content.decode())
    with in_town(castres):
        credit.refresh_from_db()
        assert (credit.status, credit.handled_by_id) == ("handled", agent.pk)
    assert "Vous avez" not in family.client.get("/castres/billing/factures/").content.decode()
    # A family or an agent of another area does not reach the régie's page.
    assert family.client.get("/castres/billing/gestion/trop-percus/").status_code == 403


def test_staff_page_query_count_does_not_grow_with_credits(
    family, castres, in_town, django_assert_max_num_queries
):
    from accounts.models import User

    with in_town(castres):
        agent = User.objects.create_user(
            username="agent-regie-2", password="x" * 20, role="agent", service_areas=["billing"]
        )
        for i in range(8):
            AccountCredit.objects.create(
                household=family.household,
                invoice=family.invoice,
                regie_code=family.invoice.regie_code,
                regie_name=family.invoice.regie_name,
                amount="12.30",
                provider="payzen",
                transaction_id=f"t-{i}",
                received_at=family.invoice.payment_opens_at,
                status="handled" if i % 2 else "open",
            )
    staff = Client()
    force_login_verified(staff, agent, castres)
    staff.get("/castres/billing/gestion/trop-percus/")  # warm the per-process caches
    with django_assert_max_num_queries(16):
        page = staff.get("/castres/billing/gestion/trop-percus/")
    assert page.status_code == 200 and page.content.decode().count("12,30") >= 8
