"""Billing under real concurrency: real threads, each with its own PostgreSQL
connection, on COMMITTED rows in Castres' schema (written and removed by a
helper connection; the test's own connection only reads).

- a payment notification replayed 5 times at once (PayZen HMAC-SHA-256 and
  eopayment's dummy backend, built and checked by eopayment's own code)
  records ONE payment and sends ONE receipt;
- invoice numbers stay gapless when concurrent transactions take numbers and
  some roll back;
- two monthly runs of the same town at once create each invoice once.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
from datetime import timedelta
from decimal import Decimal as D
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import Client

from modules.billing import numbering, services
from modules.billing.models import Counter, Invoice, InvoiceLine, Payment, PaymentAttempt
from modules.billing.testing import (
    billed_month,
    book,
    committed,
    issue_day,
    purge_households,
    school_days,
)
from tests.support import in_own_connection, run_in_threads

pytestmark = pytest.mark.django_db

NAME = "Famille Concurrence"
PAYZEN_KEY = "TestKey0123456789abcdef"


def payzen_signature(fields: dict, key: str) -> str:
    values = [fields[k] for k in sorted(f for f in fields if f.startswith("vads_"))]
    message = "+".join([*values, key]).encode("utf-8")
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def setup_family(n_children=1, n_days=3):
    """A household with bookings, invoiced: returns (household id, invoice id)."""
    from families.models import Adult, Child, Household

    def go():
        household = Household.objects.create(name=NAME, city="Castres")
        adult = Adult.objects.create(
            household=household, first_name="Zoé", last_name="Test", email="zoe.test@example.org"
        )
        year, month = billed_month()
        for i in range(n_children):
            child = Child.objects.create(
                household=household,
                first_name=f"Enfant{i}",
                last_name="Test",
                birth_date="2018-01-01",
            )
            child.guardians.add(adult)
            book(child, "restauration-scolaire", school_days(year, month, count=n_days), name=NAME)
        from tenants.models import Commune

        castres = Commune.objects.get(slug="castres")
        connection.set_tenant(castres)
        result = services.run_month(
            commune=castres, year=year, month=month, today=issue_day(), notify=False
        )
        return household.pk, result.invoice_ids[0]

    return go


def cleanup_family(value):
    from booking.models import Activity

    purge_households([value[0]])
    Activity.objects.filter(name__startswith=NAME).delete()


@pytest.fixture
def payzen_secret(monkeypatch):
    monkeypatch.setenv("CASTRES_PAYZEN_SECRET_TEST", PAYZEN_KEY)


def start_attempt(invoice_id):
    """What the family's click does: a payment attempt opened with the provider."""
    invoice = Invoice.objects.get(pk=invoice_id)
    return services.start_online_payment(
        invoice=invoice,
        user=None,
        return_url="https://portail.example/castres/billing/retour/",
        notification_url="https://portail.example/castres/billing/paiement/notification/",
    )


def payzen_ipn(redirect, amount_cents=None, **overrides):
    """The IPN PayZen posts back for this form, signed with the shop's key."""
    form = dict(redirect.fields)
    fields = {
        "vads_amount": amount_cents or form["vads_amount"],
        "vads_auth_mode": "FULL",
        "vads_auth_number": "3fb1c2",
        "vads_auth_result": "00",
        "vads_capture_delay": "0",
        "vads_card_brand": "CB",
        "vads_card_number": "497010XXXXXX0014",
        "vads_ctx_mode": "TEST",
        "vads_currency": "978",
        "vads_extra_result": "",
        "vads_order_id": form["vads_order_id"],
        "vads_payment_config": "SINGLE",
        "vads_result": "00",
        "vads_site_id": form["vads_site_id"],
        "vads_trans_date": form["vads_trans_date"],
        "vads_trans_id": form["vads_trans_id"],
        "vads_trans_status": "AUTHORISED",
        "vads_url_check_src": "PAY",
        "vads_version": "V2",
    }
    fields.update(overrides)
    fields["signature"] = payzen_signature(fields, PAYZEN_KEY)
    return urlencode(fields)


def post_notification(body: str):
    def go():
        town = connection.tenant
        response = Client().post(
            "/castres/billing/paiement/notification/",
            data=body,
            content_type="application/x-www-form-urlencoded",
        )
        connection.set_tenant(town)  # the routing middleware leaves the public schema
        return response.status_code, response.content.decode()

    return go


def post(town, body):
    """One notification, on its own connection (the test's connection is inside
    a transaction that never commits: the row locks it took would stay)."""

    return in_own_connection(town, post_notification(body))


def receipts():
    return [m for m in mail.outbox if "reçu de paiement" in m.subject]


def test_payzen_notification_replayed_five_times_at_once_pays_once(castres, payzen_secret):
    with committed(castres, setup_family(), cleanup_family) as (household_id, invoice_id):
        attempt, redirect = in_own_connection(castres, lambda: start_attempt(invoice_id))
        body = payzen_ipn(redirect)
        results = run_in_threads(castres, [post_notification(body) for _ in range(5)])
        assert [code for code, _ in results] == [200] * 5, results
        payments = Payment.objects.filter(invoice_id=invoice_id)
        assert payments.count() == 1
        invoice = Invoice.objects.get(pk=invoice_id)
        assert (invoice.status, invoice.amount_paid) == ("paid", invoice.total)
        fields = dict(redirect.fields)
        expected = f"{fields['vads_trans_date']}_{fields['vads_trans_id']}"
        assert payments.get().transaction_id == expected
        assert len(receipts()) == 1
        assert receipts()[0].to == ["zoe.test@example.org"]
        # Five more, one after the other: still one payment, one receipt.
        for _ in range(5):
            assert post(castres, body)[0] == 200
        assert payments.count() == 1 and len(receipts()) == 1
        assert PaymentAttempt.objects.get(pk=attempt.pk).status == "PAID"


def _payment_becomes(payment: dict):
    """Castres' online payment changed through its configuration (committed: a
    new version, the payment row derived from it), for in_own_connection."""
    from tenants.models import Commune
    from tenants.testing import edit_town_config

    return lambda: edit_town_config(Commune.objects.get(slug="castres"), {"payment": payment})


def _payment_restored(castres):
    """For in_own_connection: Castres' online payment as it is now, and its
    history without the versions the test committed (the session's towns keep
    their history: other tests count versions)."""
    from tenants.models import ConfigVersion

    payment = copy.deepcopy(castres.config["payment"])
    last = castres.config_versions.order_by("-number").values_list("number", flat=True).first()

    def restore():
        _payment_becomes(payment)()
        ConfigVersion.objects.filter(commune__slug="castres", number__gt=last or 0).delete()

    return restore


def test_dummy_notification_replayed_five_times_at_once_pays_once(castres):
    """eopayment's dummy backend (the demo's provider): its request, then the
    notification it defines (signed=1, ok=1), read back by eopayment."""
    to_dummy = _payment_becomes({"provider": "dummy"})
    back_to_payzen = _payment_restored(castres)

    with committed(castres, setup_family(), cleanup_family) as (household_id, invoice_id):
        in_own_connection(None, to_dummy)
        try:
            attempt, redirect = in_own_connection(castres, lambda: start_attempt(invoice_id))
            from urllib.parse import parse_qs, urlsplit

            query = {k: v[0] for k, v in parse_qs(urlsplit(redirect.url).query).items()}
            body = urlencode(
                {
                    "transaction_id": query["transaction_id"],
                    "orderid": query["orderid"],
                    "amount": query["amount"],
                    "signed": "1",
                    "ok": "1",
                }
            )
            results = run_in_threads(castres, [post_notification(body) for _ in range(5)])
            assert [code for code, _ in results] == [200] * 5, results
            assert Payment.objects.filter(invoice_id=invoice_id).count() == 1
            assert len(receipts()) == 1
        finally:
            in_own_connection(None, back_to_payzen)


def test_tampered_wrong_amount_and_unknown_reference_are_refused(castres, payzen_secret):
    with committed(castres, setup_family(), cleanup_family) as (household_id, invoice_id):
        attempt, redirect = in_own_connection(castres, lambda: start_attempt(invoice_id))
        good = payzen_ipn(redirect)
        tampered = good.replace("vads_amount=", "vads_amount=1")
        cents = int(dict(redirect.fields)["vads_amount"])
        cases = {
            "tampered": tampered,
            "wrong_amount": payzen_ipn(redirect, amount_cents=str(cents - 1)),
            "unknown_reference": payzen_ipn(redirect, vads_order_id="F2026999999P001"),
            "unsigned": good.split("&signature=")[0] + "&signature=",
        }
        for name, body in cases.items():
            code, text = post(castres, body)
            assert code == 400, name
        assert "signature" in post(castres, tampered)[1]
        assert "montant payé" in post(castres, cases["wrong_amount"])[1]
        assert "ne correspond à aucun paiement" in post(castres, cases["unknown_reference"])[1]
        assert post(castres, "garbage")[0] == 400
        assert not Payment.objects.filter(invoice_id=invoice_id).exists()
        assert Invoice.objects.get(pk=invoice_id).status == "to_pay"
        assert receipts() == []


def test_invoice_numbers_stay_gapless_under_concurrency(castres):
    name, year = "invoice-2099", 2099

    def take(n, fail):
        def go():
            with transaction.atomic():
                numbers = numbering.invoice_numbers(year, n)
                if fail:
                    raise RuntimeError("rollback")
            return numbers

        return go

    jobs = [
        take(n, fail)
        for n, fail in [
            (3, False),
            (2, True),
            (1, False),
            (5, False),
            (4, True),
            (2, False),
            (1, True),
            (3, False),
        ]
    ]
    try:
        results = run_in_threads(castres, jobs)
        connection.set_tenant(castres)
        taken = sorted(int(x.split("-")[1]) for r in results if isinstance(r, list) for x in r)
        assert taken == list(range(1, 15))  # 3 + 1 + 5 + 2 + 3, nothing lost to rollbacks
        assert Counter.objects.get(name=name).value == 14
    finally:
        in_own_connection(castres, lambda: Counter.objects.filter(name=name).delete())


def test_two_runs_of_one_town_at_once_invoice_once(castres):
    from families.models import Adult, Child, Household

    year, month = billed_month()

    def setup():
        ids = []
        for n in range(3):
            household = Household.objects.create(name=f"{NAME} {n}")
            adult = Adult.objects.create(household=household, first_name="A", last_name="B")
            child = Child.objects.create(
                household=household, first_name="C", last_name="B", birth_date="2018-01-01"
            )
            child.guardians.add(adult)
            book(child, "restauration-scolaire", school_days(year, month, count=2), name=NAME)
            ids.append(household.pk)
        return ids

    def cleanup(ids):
        from booking.models import Activity

        purge_households(ids)
        Activity.objects.filter(name__startswith=NAME).delete()

    def go():
        return services.run_month(
            commune=castres, year=year, month=month, today=issue_day(), notify=False
        )

    with committed(castres, setup, cleanup) as ids:
        results = run_in_threads(castres, [go, go])
        connection.set_tenant(castres)
        assert sorted(r.invoices for r in results) == [0, 3], results
        assert Invoice.objects.filter(household_id__in=ids).count() == 3
        assert InvoiceLine.objects.filter(invoice__household_id__in=ids).count() == 6


def test_payfip_attempt_left_waiting_is_settled_by_the_reconciliation_task(castres, monkeypatch):
    """PayFiP signs nothing: the job asks PayFiP (its SOAP answer, here faked at
    the SOAP boundary) and applies the answer like a notification."""
    from eopayment.payfip_ws import PayFiP

    from modules.billing.tasks import reconcile_payments_for_town

    class SoapRecord(dict):
        __getattr__ = dict.__getitem__

    back_to_payzen = _payment_restored(castres)

    monkeypatch.setattr(PayFiP, "get_idop", lambda self, **kw: "IDOP-TEST-1")
    with committed(castres, setup_family(), cleanup_family) as (household_id, invoice_id):
        payfip = {"provider": "payfip_ws", "options": {"numcli": "123456", "saisie": "T"}}
        in_own_connection(None, _payment_becomes(payfip))
        try:
            attempt, _ = in_own_connection(castres, lambda: start_attempt(invoice_id))
            amount = int(attempt.amount * 100)
            old = attempt.started_at - timedelta(minutes=10)
            in_own_connection(
                castres, lambda: PaymentAttempt.objects.filter(pk=attempt.pk).update(started_at=old)
            )
            answer = SoapRecord(
                dattrans="21112026",
                heurtrans="1030",
                exer="2026",
                idOp="IDOP-TEST-1",
                mel="zoe.test@example.org",
                montant=str(amount),
                numauto="1",
                numcli="123456",
                objet="",
                refdet=attempt.reference,
                resultrans="P",
                saisie="T",
            )
            monkeypatch.setattr(
                PayFiP, "get_info_paiement", lambda self, idop, timeout=None: answer
            )
            counts = in_own_connection(castres, reconcile_payments_for_town)
            connection.set_tenant(castres)
            assert (counts["checked"], counts["paid"]) == (1, 1)
            assert Invoice.objects.get(pk=invoice_id).status == "paid"
            assert Payment.objects.get(invoice_id=invoice_id).amount == D(amount) / 100
            # Asked again: nothing changes.
            in_own_connection(castres, reconcile_payments_for_town)
            assert Payment.objects.filter(invoice_id=invoice_id).count() == 1
        finally:
            in_own_connection(None, back_to_payzen)
