"""The reminder letter (PDF): what is due (invoice, amounts, dates) and how to
pay — online, at the régie, at a tobacconist, and for a handed-over invoice at
the trésorerie. Staff download it from the unpaid list, the family from its
invoice page and from the link its reminder e-mail carries. The PDF is rendered
by WeasyPrint and read back with pypdf."""

from __future__ import annotations

import io
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from modules.billing import reminders
from modules.billing.french import long_day
from modules.billing.models import Invoice
from modules.billing.pricing import euros
from modules.billing.tasks import send_reminders_for_town
from modules.billing.testing import make_invoiced_family
from notifications.models import OutboxMessage

PARIS = ZoneInfo("Europe/Paris")


def _at(day):
    return time_machine.travel(datetime.combine(day, time(9, 0), tzinfo=PARIS), tick=False)


def _text(pdf: bytes) -> str:
    from pypdf import PdfReader

    assert pdf.startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " "))


def _norm(value: str) -> str:
    return value.replace("\u202f", " ").replace("\u00a0", " ")


@pytest.mark.django_db
def test_reminder_letter_says_what_is_due_and_how_to_pay(castres, in_town):
    from accounts.models import User
    from accounts.testing import force_login_verified

    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Lettre", days=3)
        other = make_invoiced_family(castres, last_name="Voisin", days=2)
        agent = User.objects.create_user(
            username="lettre-impayes", password="x" * 20, role="agent", service_areas=["billing"]
        )
        invoice = fam.invoice
        due = invoice.due_date
        mails = OutboxMessage.objects.count()
    staff, family = Client(), Client()
    letter = f"/castres/billing/gestion/impayes/factures/{invoice.pk}/lettre.pdf"
    own = f"/castres/billing/factures/{invoice.pk}/relance.pdf"

    # Not yet due: no letter anywhere.
    with _at(due):
        force_login_verified(staff, agent, castres)
        with in_town(castres):
            family.force_login(fam.user)
        assert staff.get(letter).status_code == 404
        assert family.get(own).status_code == 404

    with _at(due + timedelta(days=16)):
        force_login_verified(staff, agent, castres)
        with in_town(castres):
            family.force_login(fam.user)
        with in_town(castres):
            assert send_reminders_for_town()[reminders.FIRST] == 2
            mail = OutboxMessage.objects.order_by("id")[mails:].get(to=[invoice.payer_email])
        # The e-mail links the letter.
        assert f"/castres/billing/factures/{invoice.pk}/relance.pdf" in mail.body
        # Staff: the unpaid list links the letter, which downloads as a PDF.
        page = staff.get("/castres/billing/gestion/impayes/").content.decode()
        assert f'href="{letter}"' in page
        response = staff.get(letter)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert f"relance-{invoice.number}.pdf" in response["Content-Disposition"]
        text = _text(response.content)
        with in_town(castres):
            invoice = Invoice.objects.get(pk=invoice.pk)
        balance, total = _norm(euros(invoice.balance)), _norm(euros(invoice.total))
        assert re.fullmatch(r"\d+,\d\d €", balance)
        assert f"Première relance — facture n° {invoice.number}" in text
        assert f"Castres, le {long_day(due + timedelta(days=16))}" in text  # the step's day
        # Any weekday: the due date moves with the clock (dimanche does not end in -di).
        weekday = r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d"
        assert long_day(due) in text and re.match(weekday, long_day(due))
        assert long_day(invoice.invoice_date) in text
        assert f"Reste à payer {balance}" in text and f"Montant de la facture {total}" in text
        assert "Comment payer" in text
        assert "Le paiement en ligne était possible jusqu'au" in text  # closed at due
        assert f"/castres/billing/factures/{invoice.pk}/" in text
        # Online closed at the due date: the letter sends to the régie, whose
        # address heads the letter, and no longer offers the online card payment.
        assert "réglez cette facture auprès de la régie" in text
        assert "110 boulevard Maréchal Joffre" in text and "PayZen" not in text
        # Castres offers paiement de proximité: the DGFiP's sentence and the code.
        assert "buraliste ou partenaire agréé" in text
        assert "un échéancier peut être convenu" in text
        # The family: its invoice page says it was reminded and links the same letter.
        detail = family.get(f"/castres/billing/factures/{invoice.pk}/").content.decode()
        assert "Première relance" in detail and f'href="{own}"' in detail
        mine = family.get(own)
        assert mine.status_code == 200 and _text(mine.content) == text
        # Another family's letter is not found (the family pages filter on the household).
        with in_town(castres):
            theirs = Invoice.objects.get(household=other.household)
        assert family.get(f"/castres/billing/factures/{theirs.pk}/relance.pdf").status_code == 404

    with _at(due + timedelta(days=31)), in_town(castres):
        assert send_reminders_for_town()[reminders.SECOND] == 2
    with _at(due + timedelta(days=32)):
        force_login_verified(staff, agent, castres)
        text = _text(staff.get(letter).content)
        assert f"Seconde relance — facture n° {invoice.number}" in text
        assert "sera transmise au Trésor public" in text

    with _at(due + timedelta(days=61)):
        with in_town(castres):
            assert send_reminders_for_town()[reminders.HANDOVER] == 2
            mail = OutboxMessage.objects.filter(to=[invoice.payer_email]).order_by("-id").first()
        assert "transmise au Trésor public" in mail.subject
        assert f"/castres/billing/factures/{invoice.pk}/relance.pdf" in mail.body
        force_login_verified(staff, agent, castres)
        text = _text(staff.get(letter).content)
        assert f"Facture transmise au Trésor public — facture n° {invoice.number}" in text
        assert "ne se paie plus sur le portail ni à la régie" in text
        assert "auprès de la trésorerie" in text
        assert "chez un buraliste agréé avec ce courrier" in text
        assert "à l'Espace Famille" not in text
        assert f"Reste à payer {balance}" in text

    # Paid: no letter any more.
    with in_town(castres):
        Invoice.objects.filter(pk=invoice.pk).update(
            status=Invoice.Status.PAID, amount_paid=invoice.total
        )
    with _at(due + timedelta(days=62)):
        force_login_verified(staff, agent, castres)
        assert staff.get(letter).status_code == 404
