"""SEPA direct debit end to end: online mandate (IBAN checked with the RIB key,
holder, unique RUM), debits scheduled at invoicing, the pain.008.001.02 file
validated against the XSD (FRST then RCUR), rejections."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.testing import force_login_verified
from booking.french import format_date
from modules.billing import services
from modules.billing.models import DirectDebit, Invoice, Mandate, Payment, SepaExport
from modules.billing.sepa import validate_pain008
from modules.billing.testing import billed_month, book, issue_day, make_invoiced_family

pytestmark = pytest.mark.django_db

GOOD_IBAN = "FR76 3000 6000 0112 3456 7890 189"
BAD_RIB_KEY = "FR0630006000011234567890188"  # IBAN check digits right, RIB key wrong


@pytest.fixture
def beta(bondoufle, in_town, settings):
    settings.LOGIN_URL = "/connexion/"
    with in_town(bondoufle):
        fam = make_invoiced_family(bondoufle, last_name="Beta", run=False)
        fam.client = Client()
        fam.client.force_login(fam.user)
    return fam


@pytest.mark.parametrize(
    "data,field,message",
    [
        (
            {"holder_name": "Anne Beta", "iban": BAD_RIB_KEY, "accepted": "on"},
            "iban",
            "la clé RIB (les 2 derniers chiffres) ne correspond pas au numéro de compte",
        ),
        (
            {"holder_name": "Anne Beta", "iban": "FR76300060000112345678901", "accepted": "on"},
            "iban",
            "Un IBAN français compte 27 caractères ; celui saisi en compte 25.",
        ),
        (
            {"holder_name": "Anne Beta", "iban": "", "accepted": "on"},
            "iban",
            "Saisissez votre IBAN (il figure sur votre RIB).",
        ),
        (
            {"holder_name": "  ", "iban": GOOD_IBAN, "accepted": "on"},
            "holder_name",
            "Indiquez le nom du titulaire du compte, tel qu&#x27;il figure sur le RIB.",
        ),
        (
            {"holder_name": "Anne Beta", "iban": GOOD_IBAN},
            "accepted",
            "Cochez la case pour autoriser le prélèvement (mandat SEPA).",
        ),
    ],
)
def test_mandate_form_refuses_bad_input_in_french(beta, bondoufle, in_town, data, field, message):
    response = beta.client.post("/bondoufle/billing/prelevement/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    with in_town(bondoufle):
        assert not Mandate.objects.exists()


def test_mandate_api_refuses_bad_iban_with_a_problem_document(beta, bondoufle, in_town):
    response = beta.client.post(
        "/bondoufle/api/billing/mandats/",
        {"holder_name": "", "iban": BAD_RIB_KEY, "accepted": True},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert set(body["errors"]) == {"holder_name", "iban"}
    assert "clé RIB" in body["errors"]["iban"]
    ok = beta.client.post(
        "/bondoufle/api/billing/mandats/",
        {"holder_name": "Anne Beta", "iban": GOOD_IBAN, "accepted": True},
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json()["iban"] == "FR76 •••• •••• 0189"


def test_signed_mandate_has_a_unique_rum_and_replaces_the_previous_one(
    beta, bondoufle, in_town, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = beta.client.post(
            "/bondoufle/billing/prelevement/",
            {"holder_name": "Anne Beta", "iban": GOOD_IBAN, "accepted": "on"},
            follow=True,
        )
    assert "Mandat BONDOUFLE-" in response.content.decode()
    with in_town(bondoufle):
        first = Mandate.objects.get(household=beta.household)
        assert re.fullmatch(r"BONDOUFLE-\d{4}-\d{8}", first.rum)
        assert "30006000011234567890189" not in first.rum
        assert (first.iban, first.holder_name, first.status) == (
            "FR7630006000011234567890189",
            "Anne Beta",
            "active",
        )
        other = make_invoiced_family(bondoufle, last_name="Delta", run=False)
        second = services.sign_mandate(
            household=other.household, user=other.user, iban=GOOD_IBAN, holder_name="Jo Delta"
        )
        assert second.rum != first.rum
        replaced = services.sign_mandate(
            household=beta.household,
            user=beta.user,
            iban="FR7630001000640000000000137",
            holder_name="Anne Beta",
        )
        first.refresh_from_db()
        assert (first.status, replaced.status) == ("revoked", "active")
    confirmation = next(m for m in mail.outbox if "mandat de prélèvement" in m.subject)
    assert "FR72ZZZ123456" in confirmation.body and "8 semaines" in confirmation.body


def test_chalonnes_mandate_applies_from_the_september_invoice():
    """Chalonnes's guide: the online opt-in applies from the September invoice."""
    import yaml
    from django.conf import settings

    from modules.billing.town_settings import invoicing_settings_from_town_config

    data = yaml.safe_load((settings.TENANT_CONFIGS_DIR / "chalonnes.yaml").read_text())
    debit = invoicing_settings_from_town_config(data).direct_debit
    assert debit.starts == "september"
    assert debit.applies_from(date(2026, 10, 2)) == date(2027, 9, 1)
    assert debit.applies_from(date(2027, 6, 2)) == date(2027, 9, 1)


def invoiced_with_mandate(commune, last_name):
    fam = make_invoiced_family(commune, last_name=last_name, run=False)
    year, month = billed_month()
    services.sign_mandate(
        household=fam.household,
        user=fam.user,
        iban=GOOD_IBAN,
        holder_name=f"Anne {last_name}",
        today=date(year, month, 1),
    )
    services.run_month(commune=commune, year=year, month=month, today=issue_day(), notify=False)
    fam.invoice = Invoice.objects.get(household=fam.household)
    return fam


def test_export_builds_a_valid_pain008_then_rcur_and_records_rejections(
    bondoufle, in_town, settings, django_capture_on_commit_callbacks
):
    settings.LOGIN_URL = "/connexion/"
    from accounts.models import User

    with in_town(bondoufle):
        fam = invoiced_with_mandate(bondoufle, "Zeta")
        assert fam.invoice.status == "direct_debit"
        debit = DirectDebit.objects.get(invoice=fam.invoice)
        assert debit.collection_date >= issue_day() + timedelta(days=14)
        agent = User.objects.create_user(
            username="regisseur", password="x" * 20, role="agent", service_areas=["billing"]
        )
    staff = Client()
    force_login_verified(staff, agent, bondoufle)
    page = staff.get("/bondoufle/billing/gestion/prelevements/")
    assert format_date(debit.collection_date) in page.content.decode()
    staff.post(f"/bondoufle/billing/gestion/prelevements/{debit.collection_date:%Y-%m-%d}/export/")
    with in_town(bondoufle):
        export = SepaExport.objects.get()
        debit.refresh_from_db()
        fam.invoice.refresh_from_db()
        # Handed to the bank, not yet collected: « prélèvement prévu » until the date.
        assert (debit.status, debit.sequence, fam.invoice.status) == (
            "exported",
            "FRST",
            "direct_debit",
        )
        assert Payment.objects.get(invoice=fam.invoice).status == "scheduled"
    xml = staff.get(f"/bondoufle/billing/gestion/fichiers/{export.pk}/")
    assert xml["Content-Type"] == "application/xml"
    validate_pain008(xml.content)  # the ISO 20022 XSD shipped in the repository
    text = xml.content.decode()
    assert "<SeqTp>FRST</SeqTp>" in text and "FR72ZZZ123456" in text
    assert fam.invoice.payment_reference in text
    # The bank rejects it: the invoice is to pay again, the family is told.
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            f"/bondoufle/billing/gestion/prelevements/{debit.pk}/rejet/",
            {"reason": "AM04 provision insuffisante"},
        )
    with in_town(bondoufle):
        fam.invoice.refresh_from_db()
        assert fam.invoice.status == "to_pay"
        assert Payment.objects.get(invoice=fam.invoice).status == "rejected"
        assert services.online_payment_refusal(fam.invoice) is None
    assert any("prélèvement rejeté" in m.subject for m in mail.outbox)
    # The next debit of this mandate is a recurring one.
    with in_town(bondoufle):
        year, month = billed_month()
        book(fam.child, "restauration-scolaire", [date(year, month, 28)])
        from modules.billing.lines import month_bounds

        later = month_bounds(*_next(year, month))[1] + timedelta(days=1)
        services.run_month(
            commune=bondoufle,
            year=_next(year, month)[0],
            month=_next(year, month)[1],
            today=later,
            notify=False,
        )
        second = DirectDebit.objects.filter(status="scheduled").get()
        services.export_direct_debits(collection_date=second.collection_date, by=None, today=later)
        second.refresh_from_db()
        assert second.sequence == "RCUR"
        validate_pain008(bytes(second.export.xml))


def _next(year, month):
    return (year + (month == 12), month % 12 + 1)


def test_export_refuses_past_dates_and_late_prenotification(bondoufle, in_town):
    with in_town(bondoufle):
        fam = invoiced_with_mandate(bondoufle, "Eta")
        debit = DirectDebit.objects.get(invoice=fam.invoice)
        with pytest.raises(services.BillingError, match="postérieure à aujourd'hui"):
            services.export_direct_debits(collection_date=timezone.localdate(), by=None)
        DirectDebit.objects.filter(pk=debit.pk).update(
            prenotified_at=timezone.now()
            + timedelta(days=(debit.collection_date - timezone.localdate()).days - 3)
        )
        with pytest.raises(services.SepaError, match="devait être annoncé au plus tard"):
            services.export_direct_debits(collection_date=debit.collection_date, by=None)
        assert not SepaExport.objects.exists()
        with pytest.raises(services.BillingError, match="Aucun prélèvement programmé"):
            services.export_direct_debits(
                collection_date=debit.collection_date + timedelta(days=1), by=None
            )


def test_revoking_the_mandate_cancels_scheduled_debits(bondoufle, in_town, settings):
    settings.LOGIN_URL = "/connexion/"
    with in_town(bondoufle):
        fam = invoiced_with_mandate(bondoufle, "Theta")
        mandate = Mandate.objects.get(household=fam.household)
        client = Client()
        client.force_login(fam.user)
    client.post(f"/bondoufle/billing/prelevement/{mandate.pk}/revoquer/")
    with in_town(bondoufle):
        mandate.refresh_from_db()
        fam.invoice.refresh_from_db()
        assert mandate.status == "revoked" and fam.invoice.status == "to_pay"
        assert DirectDebit.objects.get(invoice=fam.invoice).status == "cancelled"
