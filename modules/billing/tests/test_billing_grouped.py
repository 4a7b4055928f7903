"""« Tout payer »: one online payment for several invoices, allocated oldest
first by the provider's notification (dummy provider, signed fields as the
demo page sends them); the allocation rule; what a family sees when online
payment is not usable."""

from __future__ import annotations

from decimal import Decimal as D
from urllib.parse import urlencode

import pytest
from django.core import mail

from modules.billing import services
from modules.billing.lines import previous_month
from modules.billing.models import AttemptShare, Invoice, Payment
from modules.billing.rules import allocate_oldest_first
from modules.billing.testing import billed_month, book, issue_day, make_invoiced_family, school_days
from tenants.testing import edit_town_config

pytestmark = pytest.mark.django_db


def test_allocation_oldest_first():
    assert allocate_oldest_first(D("10.00"), [D("4.00"), D("6.00")]) == (
        [D("4.00"), D("6.00")],
        D("0.00"),
    )
    assert allocate_oldest_first(D("5.00"), [D("4.00"), D("6.00")]) == (
        [D("4.00"), D("1.00")],
        D("0.00"),
    )
    # The oldest was settled at the desk meanwhile: what nothing owed is a surplus.
    assert allocate_oldest_first(D("10.00"), [D("0.00"), D("6.00")]) == (
        [D("0.00"), D("6.00")],
        D("4.00"),
    )
    # A second payment of a settled invoice: all of it is a surplus.
    assert allocate_oldest_first(D("64.60"), [D("0.00")]) == ([D("0.00")], D("64.60"))
    # An invoice the town already owes on (negative balance) takes nothing.
    assert allocate_oldest_first(D("3.00"), [D("-2.00"), D("1.00")]) == (
        [D("0.00"), D("1.00")],
        D("2.00"),
    )
    assert allocate_oldest_first(D("0"), [D("3")]) == ([D("0")], D("0"))
    assert allocate_oldest_first(D("-1"), [D("3")]) == ([D("0")], D("0"))
    assert allocate_oldest_first(D("7.00"), []) == ([], D("7.00"))


@pytest.fixture
def two_invoices(castres, in_town):

    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Groupe")
        year, month = previous_month(_first_of(*billed_month()))
        book(fam.child, "restauration-scolaire", school_days(year, month, count=2))
        services.run_month(commune=castres, year=year, month=month, today=issue_day(), notify=False)
        older = Invoice.objects.get(household=fam.household, year=year, month=month)
        edit_town_config(castres, {"payment": {"provider": "dummy"}})
        fam.older, fam.newer = older, fam.invoice
        yield fam


def _first_of(year, month):
    from datetime import date

    return date(year, month, 1)


def _notify(attempt, amount):
    return services.handle_notification(
        raw=urlencode(
            {
                "transaction_id": attempt.provider_transaction_id,
                "orderid": attempt.reference,
                "amount": str(amount),
                "signed": "1",
                "ok": "1",
            }
        )
    )


def test_one_payment_pays_both_invoices_oldest_first(
    two_invoices, castres, in_town, django_capture_on_commit_callbacks
):
    fam = two_invoices
    with in_town(castres), django_capture_on_commit_callbacks(execute=True):
        attempt, redirect = services.start_grouped_payment(
            invoices=[fam.newer, fam.older],
            user=fam.user,
            return_url="https://portail.example/castres/billing/paiement/retour/",
            notification_url="https://portail.example/castres/billing/paiement/notification/",
        )
        total = fam.older.balance + fam.newer.balance
        assert attempt.amount == total and attempt.invoice == fam.older
        assert attempt.reference == f"{fam.older.payment_reference}G001"
        assert list(
            AttemptShare.objects.filter(attempt=attempt).values_list("invoice", flat=True)
        ) == [
            fam.older.pk,
            fam.newer.pk,
        ]
        outcome = _notify(attempt, total)
        assert outcome.kind == "paid"
        for inv in (fam.older, fam.newer):
            inv.refresh_from_db()
            assert inv.status == "paid" and inv.balance == 0
        assert Payment.objects.filter(attempt=attempt).count() == 2
        # A replay records nothing more.
        assert _notify(attempt, total).kind == "already_recorded"
        assert Payment.objects.filter(attempt=attempt).count() == 2
    assert len([m for m in mail.outbox if "reçu" in m.subject]) == 2


def test_a_single_payable_invoice_is_a_plain_payment(two_invoices, castres, in_town):
    fam = two_invoices
    with in_town(castres):
        Invoice.objects.filter(pk=fam.older.pk).update(status="paid", amount_paid=fam.older.total)
        attempt, _ = services.start_grouped_payment(
            invoices=[fam.newer, Invoice.objects.get(pk=fam.older.pk)],
            user=fam.user,
            return_url="x",
            notification_url="y",
        )
        assert attempt.invoice == fam.newer and "P001" in attempt.reference
        assert not attempt.shares.exists()


def test_payment_unavailable_is_a_sentence_with_other_ways_to_pay(castres, in_town, monkeypatch):
    monkeypatch.delenv("CASTRES_PAYZEN_SECRET_TEST", raising=False)
    with in_town(castres):
        text = services.online_payment_unavailable(castres)
    assert text.startswith("Le paiement en ligne n'est pas disponible pour le moment.")
    assert "110 boulevard Maréchal Joffre" in text or "Espace Famille" in text
    assert "CASTRES_PAYZEN" not in text and "variable" not in text
    monkeypatch.setenv("CASTRES_PAYZEN_SECRET_TEST", "TestKey0123456789abcdef")
    with in_town(castres):
        assert services.online_payment_unavailable(castres) is None
