"""Direct debits are dated when the bank collects, not when the file is made;
an erasure keeps invoices whole under a pseudonym. Moved (frozen) clock."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core import mail
from django.test import Client

from accounts.testing import force_login_verified
from modules.billing import selectors, services
from modules.billing.models import DirectDebit, Invoice, InvoiceLine, Payment

pytestmark = pytest.mark.django_db

GOOD_IBAN = "FR76 3000 6000 0112 3456 7890 189"
ISSUED = date(2026, 12, 7)  # the November invoice is issued (and the file made) on 7 December
COLLECTION = date(2027, 1, 6)


def _family_with_debit(commune, last_name):
    """A Bondoufle family with a mandate, its November 2026 invoice issued on
    ISSUED, its debit due on COLLECTION."""
    from modules.billing.testing import make_invoiced_family

    fam = make_invoiced_family(commune, last_name=last_name, run=False, days=3)  # November
    services.sign_mandate(
        household=fam.household,
        user=fam.user,
        iban=GOOD_IBAN,
        holder_name=f"Anne {last_name}",
        today=date(2026, 11, 1),
    )
    services.run_month(commune=commune, year=2026, month=11, today=ISSUED, notify=False)
    fam.invoice = Invoice.objects.get(household=fam.household)
    debit = DirectDebit.objects.get(invoice=fam.invoice)
    DirectDebit.objects.filter(pk=debit.pk).update(collection_date=COLLECTION)
    fam.debit = DirectDebit.objects.get(pk=debit.pk)
    return fam


@pytest.fixture
def staff(bondoufle, in_town):
    from accounts.models import User

    with in_town(bondoufle):
        agent = User.objects.create_user(
            username="regisseur", password="x" * 20, role="agent", service_areas=["billing"]
        )
    return agent


def _invoice_pdf_html(commune, invoice) -> str:
    """What the invoice PDF is drawn from (WeasyPrint renders this HTML)."""
    from django.template.loader import render_to_string

    from modules.billing import pdf

    _, invoicing = services.town_settings(commune)
    invoice = Invoice.objects.get(pk=invoice.pk)
    context = pdf.invoice_context(invoice, commune, how_to_pay=invoicing.how_to_pay, pay_url="x")
    return render_to_string("billing/pdf/invoice.html", context)


def _client(user, commune):
    client = Client()
    force_login_verified(client, user, commune)
    return client


def test_a_january_debit_is_scheduled_until_collected_then_paid_in_the_collection_year(
    bondoufle, in_town, staff, settings
):
    settings.LOGIN_URL = "/connexion/"
    with time_machine.travel("2026-12-07 10:00:00+00:00", tick=False):
        with in_town(bondoufle):
            fam = _family_with_debit(bondoufle, "Janvier")
        agent = _client(staff, bondoufle)
        response = agent.post(
            f"/bondoufle/billing/gestion/prelevements/{COLLECTION:%Y-%m-%d}/export/"
        )
        assert response.status_code == 302
        with in_town(bondoufle):
            fam.invoice.refresh_from_db()
            payment = Payment.objects.get(invoice=fam.invoice)
            assert fam.invoice.status == Invoice.Status.DIRECT_DEBIT
            assert payment.status == Payment.Status.SCHEDULED
            assert payment.paid_at.date() == COLLECTION
        family = Client()
        with in_town(bondoufle):
            family.force_login(fam.user)
        page = family.get("/bondoufle/billing/").content.decode()
        assert "prélèvement prévu le mercredi 6 janvier 2027" in page
        with in_town(bondoufle):
            pdf_text = _invoice_pdf_html(bondoufle, fam.invoice)
        assert "État : <strong>prélèvement prévu le mercredi 6 janvier 2027</strong>" in pdf_text
        assert "Prélèvement prévu le <strong>mercredi 6 janvier 2027</strong>" in pdf_text
    # The daily job before the date changes nothing...
    with time_machine.travel("2027-01-05 06:00:00+00:00", tick=False), in_town(bondoufle):
        assert services.settle_direct_debits() == 0
        fam.invoice.refresh_from_db()
        assert fam.invoice.status == Invoice.Status.DIRECT_DEBIT
    # ...on the collection date the money is received.
    with time_machine.travel("2027-01-06 06:00:00+00:00", tick=False), in_town(bondoufle):
        assert services.settle_direct_debits() == 1
        assert services.settle_direct_debits() == 0  # idempotent
        fam.invoice.refresh_from_db()
        assert fam.invoice.status == Invoice.Status.PAID
        # The PDF no longer announces a debit: it says paid.
        pdf_text = _invoice_pdf_html(bondoufle, fam.invoice)
        assert "prévu" not in pdf_text.lower() and "État : <strong>payée</strong>" in pdf_text
        # The fiscal attestation counts it in 2027, the year the money came.
        assert Payment.objects.get(invoice=fam.invoice).paid_at.year == 2027
        assert not Payment.objects.filter(
            invoice__household=fam.household, status="valid", paid_at__year=2026
        ).exists()
        attestation_2027 = selectors.fiscal_attestation(
            fam.household, year=2027, today=date(2028, 1, 10)
        )
        assert attestation_2027.year == 2027
    with time_machine.travel("2028-01-10 10:00:00+00:00", tick=False):
        family = Client()
        with in_town(bondoufle):
            family.force_login(fam.user)
        page = family.get("/bondoufle/billing/attestations/").content.decode()
        assert "Attestation 2027" in page and "Attestation 2026" not in page


def test_a_rejection_before_the_date_leaves_the_invoice_unpaid_and_tells_the_family(
    bondoufle, in_town, staff, settings, django_capture_on_commit_callbacks
):
    settings.LOGIN_URL = "/connexion/"
    with time_machine.travel("2026-12-07 10:00:00+00:00", tick=False):
        with in_town(bondoufle):
            fam = _family_with_debit(bondoufle, "Rejet")
            services.export_direct_debits(collection_date=COLLECTION, by=None)
    with time_machine.travel("2027-01-04 10:00:00+00:00", tick=False):
        agent = _client(staff, bondoufle)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = agent.post(
                f"/bondoufle/billing/gestion/prelevements/{fam.debit.pk}/rejet/",
                {"reason": "AC04 compte clôturé"},
            )
        assert response.status_code == 302
        with in_town(bondoufle):
            fam.invoice.refresh_from_db()
            assert fam.invoice.status == Invoice.Status.TO_PAY
            assert Payment.objects.get(invoice=fam.invoice).status == Payment.Status.REJECTED
        assert [m.subject for m in mail.outbox if "prélèvement rejeté" in m.subject]
        assert "AC04 compte clôturé" in mail.outbox[-1].body
    # The collection date passes: still unpaid, nothing counted.
    with time_machine.travel("2027-01-07 06:00:00+00:00", tick=False), in_town(bondoufle):
        assert services.settle_direct_debits() == 0
        fam.invoice.refresh_from_db()
        assert fam.invoice.status == Invoice.Status.TO_PAY


def test_a_rejection_after_collection_reverses_the_payment(bondoufle, in_town, settings):
    settings.LOGIN_URL = "/connexion/"
    with time_machine.travel("2026-12-07 10:00:00+00:00", tick=False), in_town(bondoufle):
        fam = _family_with_debit(bondoufle, "Retour")
        services.export_direct_debits(collection_date=COLLECTION, by=None)
    with time_machine.travel("2027-01-06 06:00:00+00:00", tick=False), in_town(bondoufle):
        services.settle_direct_debits()
    with time_machine.travel("2027-01-12 10:00:00+00:00", tick=False), in_town(bondoufle):
        mail.outbox.clear()
        services.record_debit_rejection(debit=fam.debit, reason="MD06 contestation")
        fam.invoice.refresh_from_db()
        assert fam.invoice.status == Invoice.Status.TO_PAY
        assert fam.invoice.amount_paid == 0


def test_erasure_keeps_the_invoice_whole_without_the_familys_name(castres, in_town):
    from documents import personal_data
    from modules.billing.testing import make_invoiced_family

    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Effacé", days=4)
        invoice = fam.invoice
        total, count = invoice.total, invoice.lines.count()
        report = personal_data.erase_household(
            household=fam.household, actor=None, reason="demande de la famille"
        )
        kept = Invoice.objects.get(pk=invoice.pk)
        lines = list(InvoiceLine.objects.filter(invoice=kept))
        assert (kept.total, len(lines)) == (total, count)
        assert sum(line.amount for line in lines) == total
        texts = [kept.payer_name, kept.payer_email, kept.payer_address]
        texts += [line.child_name for line in lines] + [line.explanation for line in lines]
        assert not any("Effacé" in t or "Alex" in t or "Camille" in t for t in texts)
        assert kept.payer_name.startswith("Payeur anonymisé")
        assert len({line.child_name for line in lines}) == 1
        assert lines[0].child_name.startswith("Enfant anonymisé")
        assert kept.anonymised_at is not None
        assert kept.retention_until == date(kept.invoice_date.year + 10, 12, 31)
        assert all(line.booking_id is None and line.child_id is None for line in lines)
        assert "billing.InvoiceLine" in report.kept
        from families.models import Child

        assert not Child.objects.filter(pk=fam.child.pk).exists()  # the child row is gone
