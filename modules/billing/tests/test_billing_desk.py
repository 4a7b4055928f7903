"""Payments at the régie's desk (issue #23 item 3, issue #16): own reference,
explicit allocation of one cheque to several invoices, one payment per form
(idempotency key), the same reference twice with a warning, a receipt, the
family sees it at once, the régie's daily statement to the cent. Through HTTP
as a billing agent, real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.test import Client
from django.utils import timezone

from accounts.testing import force_login_verified
from modules.billing import desk, regie
from modules.billing.models import DeskPayment, Invoice, Payment
from modules.billing.testing import make_invoiced_family

pytestmark = pytest.mark.django_db


def second_invoice(fam, total="25.40") -> Invoice:
    """Another open invoice of the same household (an earlier month)."""
    first = fam.invoice
    year, month = (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
    return Invoice.objects.create(
        number=f"F{year}-9{month:05d}",
        regie_code=first.regie_code,
        regie_name=first.regie_name,
        household=fam.household,
        payer=fam.adult,
        payer_name=first.payer_name,
        payer_email=first.payer_email,
        year=year,
        month=month,
        invoice_date=first.invoice_date - timedelta(days=30),
        due_date=first.due_date - timedelta(days=30),
        payment_opens_at=first.payment_opens_at - timedelta(days=30),
        payment_closes_at=first.payment_closes_at - timedelta(days=30),
        total=D(total),
    )


@pytest.fixture
def desk_world(castres, in_town):
    from accounts.models import User

    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Guichet")
        other = second_invoice(fam)
        agent = User.objects.create_user(
            username="regisseur", password="x" * 20, role="agent", service_areas=["billing"]
        )
        family_client = Client()
        family_client.force_login(fam.user)
    staff = Client()
    force_login_verified(staff, agent, castres)
    fam.other, fam.staff, fam.family_client, fam.agent = other, staff, family_client, agent
    fam.url = f"/castres/billing/gestion/familles/{fam.household.pk}/encaissement/"
    return fam


def form(fam, *, means="cheque", amounts=None, key=None, **extra):
    data = {
        "means": means,
        "idempotency_key": str(key or uuid.uuid4()),
        "cheque_number": "1234567",
        "bank": "Banque Postale",
        **extra,
    }
    for invoice, amount in (amounts or {}).items():
        data[f"invoice_{invoice.pk}"] = amount
    return data


def test_one_cheque_settles_two_invoices_allocated_explicitly(desk_world, castres, in_town):
    fam = desk_world
    first_total = fam.invoice.total
    page = fam.staff.post(
        fam.url,
        form(fam, amounts={fam.invoice: f"{first_total}".replace(".", ","), fam.other: "10,40"}),
        follow=True,
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Paiement de" in html and "enregistré : reçu R" in html
    with in_town(castres):
        [d] = DeskPayment.objects.filter(household=fam.household)
        assert (d.means, d.cheque_number, d.bank) == ("cheque", "1234567", "Banque Postale")
        assert d.amount == first_total + D("10.40")
        allocations = {p.invoice_id: p for p in d.allocations.all()}
        assert allocations[fam.invoice.pk].amount == first_total
        assert allocations[fam.other.pk].amount == D("10.40")
        # Our own receipt numbers as transaction ids: never what staff typed.
        assert {p.transaction_id for p in allocations.values()} == {
            f"{d.receipt_number}-1",
            f"{d.receipt_number}-2",
        }
        assert all(p.provider == "regie" for p in allocations.values())
        fam.invoice.refresh_from_db()
        fam.other.refresh_from_db()
        assert fam.invoice.status == "paid"
        assert (fam.other.status, fam.other.balance) == ("partly_paid", D("15.00"))
        # Written to the family's history, with who and what.
        from families.models import StaffAction

        [act] = StaffAction.objects.filter(household=fam.household)
        assert "chèque n° 1234567 (Banque Postale)" in act.summary and act.actor == fam.agent
    # The family sees it at once, with the means and its receipt.
    mine = fam.family_client.get(f"/castres/billing/factures/{fam.invoice.pk}/").content.decode()
    assert "payée" in mine and "chèque n° 1234567 (Banque Postale), à la régie" in mine
    receipt = allocations[fam.invoice.pk]
    pdf = fam.family_client.get(f"/castres/billing/paiements/{receipt.pk}/recu/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_the_same_cheque_number_twice_is_recorded_with_a_warning(desk_world, castres, in_town):
    fam = desk_world
    fam.staff.post(fam.url, form(fam, amounts={fam.invoice: "1,00"}))
    again = fam.staff.post(fam.url, form(fam, amounts={fam.other: "2,00"}), follow=True)
    assert again.status_code == 200
    html = again.content.decode()
    assert "la même référence figure déjà sur le reçu" in html
    # « espèces » typed twice: cash has no reference to collide on.
    fam.staff.post(fam.url, form(fam, means="cash", amounts={fam.other: "3,00"}))
    fam.staff.post(fam.url, form(fam, means="cash", amounts={fam.other: "3,00"}))
    with in_town(castres):
        assert DeskPayment.objects.filter(household=fam.household).count() == 4
        fam.other.refresh_from_db()
        assert fam.other.amount_paid == D("8.00")


def test_a_double_submitted_form_records_one_payment(desk_world, castres, in_town):
    fam = desk_world
    data = form(fam, means="cash", amounts={fam.invoice: "5,00"})
    first = fam.staff.post(fam.url, data, follow=True)
    second = fam.staff.post(fam.url, data, follow=True)
    assert first.status_code == second.status_code == 200
    assert "déjà enregistré" in second.content.decode()
    with in_town(castres):
        assert DeskPayment.objects.filter(household=fam.household).count() == 1
        assert Payment.objects.filter(invoice=fam.invoice).count() == 1
        fam.invoice.refresh_from_db()
        assert fam.invoice.amount_paid == D("5.00")


def test_two_requests_racing_with_one_form_record_one_payment(castres, in_town):
    """Two clicks at once: two connections, one committed payment."""
    from modules.billing.testing import committed, purge_households
    from tests.support import run_in_threads

    def setup():
        fam = make_invoiced_family(castres, last_name="Course")
        return fam.household.pk, fam.invoice.pk

    with committed(castres, setup, lambda v: purge_households([v[0]])) as (household, invoice):
        key = uuid.uuid4()

        def pay():
            return desk.record_desk_payment(
                household=household,
                means="cash",
                allocations=[(invoice, "4.00")],
                by=None,
                idempotency_key=key,
            ).created

        created = run_in_threads(castres, [pay, pay])
        assert sorted(created) == [False, True]
        assert DeskPayment.objects.filter(idempotency_key=key).count() == 1
        assert Invoice.objects.get(pk=invoice).amount_paid == D("4.00")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"means": "cheque", "cheque_number": ""}, "Indiquez le numéro du chèque."),
        ({"means": "cheque", "bank": ""}, "Indiquez la banque du chèque."),
        ({"means": "bitcoin"}, "Choisissez le moyen de paiement"),
        ({"amount": "12,345"}, "montant en euros attendu"),
        ({"amount": "abc"}, "montant en euros attendu"),
        ({"amount": "-3"}, "ne peut pas être négatif"),
        ({"amount": "99999"}, "au plus le reste à payer"),
        ({"amount": ""}, "Indiquez le montant affecté à au moins une facture."),
        ({"idempotency_key": "pas-un-uuid"}, ""),
    ],
)
def test_bad_input_is_a_french_message_and_records_nothing(
    desk_world, castres, in_town, data, message
):
    fam = desk_world
    amount = data.pop("amount", "1,00")
    posted = form(fam, amounts={fam.invoice: amount})
    posted.update(data)
    page = fam.staff.post(fam.url, posted, follow=True)
    assert page.status_code == 200
    assert message in page.content.decode()
    with in_town(castres):
        assert not DeskPayment.objects.filter(household=fam.household).exists()


def test_an_invoice_of_another_household_cannot_be_allocated(desk_world, castres, in_town):
    fam = desk_world
    with in_town(castres):
        stranger = make_invoiced_family(castres, last_name="Autre")
    posted = form(fam, amounts={fam.invoice: "1,00"})
    posted[f"invoice_{stranger.invoice.pk}"] = "1,00"  # not a field of this household's form
    fam.staff.post(fam.url, posted)
    with in_town(castres):
        assert not Payment.objects.filter(invoice=stranger.invoice).exists()
        with pytest.raises(desk.BillingValidationError):
            desk.record_desk_payment(
                household=fam.household,
                means="cash",
                allocations=[(stranger.invoice, "1.00")],
                by=None,
            )


def test_desk_payment_needs_the_billing_area(desk_world, castres, in_town):
    from families.testing import make_staff

    fam = desk_world
    outsider = make_staff(castres, username="cantine-seule", areas=["periscolaire"])
    client = Client()
    force_login_verified(client, outsider, castres)
    assert client.post(fam.url, form(fam, amounts={fam.invoice: "1,00"})).status_code == 403
    with in_town(castres):
        assert not DeskPayment.objects.filter(household=fam.household).exists()


def test_regie_statement_matches_the_payments_to_the_cent(desk_world, castres, in_town):
    fam = desk_world
    fam.staff.post(
        fam.url, form(fam, amounts={fam.invoice: "1,10", fam.other: "2,21"}, cheque_number="77")
    )
    fam.staff.post(fam.url, form(fam, means="cash", amounts={fam.other: "0,03"}))
    fam.staff.post(fam.url, form(fam, means="ancv", amounts={fam.other: "10,00"}))
    today = timezone.localdate()
    with in_town(castres):
        statement = regie.daily_statement(today)
        [day] = [r for r in statement.regies if r.code == fam.invoice.regie_code]
        totals = {m.code: m.total for m in day.means_rows}
        assert totals == {"cheque": D("3.31"), "cash": D("0.03"), "ancv": D("10.00")}
        paid_today = Payment.objects.filter(paid_at__date=today, status="valid")
        assert statement.total == sum(p.amount for p in paid_today)
    page = fam.staff.get(f"/castres/billing/gestion/regie/?jour={today.isoformat()}")
    html = page.content.decode()
    assert page.status_code == 200
    assert "3,31 €" in html and "0,03 €" in html and "Chèques vacances ANCV" in html
    csv = fam.staff.get(f"/castres/billing/gestion/regie/etat.csv?jour={today.isoformat()}")
    text = csv.content.decode("utf-8-sig")
    assert "Sous-total chèque (2);;;;;;;;3,31" in text
    assert text.splitlines()[-1].endswith(";" + f"{statement.total:.2f}".replace(".", ","))
    pdf = fam.staff.get(f"/castres/billing/gestion/regie/etat.pdf?jour={today.isoformat()}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    # A day without payments, and a malformed day (today instead, never a 500).
    assert (
        "Aucun paiement"
        in fam.staff.get("/castres/billing/gestion/regie/?jour=2001-01-01").content.decode()
    )
    assert fam.staff.get("/castres/billing/gestion/regie/?jour=demain").status_code == 200
