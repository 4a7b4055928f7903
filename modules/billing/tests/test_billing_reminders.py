"""Unpaid follow-up: the schedule (pure, every case), then with a moved clock an
unpaid invoice gets reminder 1, reminder 2, then is handed over, each exactly once
across repeated runs; a paid invoice and a paused family get none; a handed-over
invoice can no longer be paid online and the family's page says where to pay."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from modules.billing import reminder_services, reminders, services
from modules.billing.models import Invoice, ReminderStep
from modules.billing.tasks import send_reminders_for_town
from modules.billing.testing import make_invoiced_family
from notifications.models import OutboxMessage

PARIS = ZoneInfo("Europe/Paris")
DUE = date(2026, 11, 30)
S = reminders.Schedule(first_days=15, second_days=30, handover_days=60)


@pytest.mark.parametrize(
    "days_after,done,expected",
    [
        (-1, set(), None),  # not yet due
        (0, set(), None),  # due today
        (14, set(), None),
        (15, set(), reminders.FIRST),
        (15, {reminders.FIRST}, None),  # taken: not twice
        (29, {reminders.FIRST}, None),
        (30, {reminders.FIRST}, reminders.SECOND),
        (45, {reminders.FIRST, reminders.SECOND}, None),
        (60, {reminders.FIRST, reminders.SECOND}, reminders.HANDOVER),
        (90, set(reminders.STAGES), None),  # all done
        (90, set(), reminders.FIRST),  # a missed run catches up one step at a time
        (90, {reminders.FIRST}, reminders.SECOND),
    ],
)
def test_next_stage(days_after, done, expected):
    today = DUE + timedelta(days=days_after)
    assert reminders.next_stage(due=DUE, today=today, done=frozenset(done), schedule=S) == expected


def test_schedule_parse_and_problems():
    assert reminders.parse_schedule(None) == S
    assert reminders.parse_schedule({"first_days": 10}).first_days == 10
    assert reminders.schedule_problems({"first_days": 30, "second_days": 20}) == [
        "reminders : les délais doivent se suivre (première relance < seconde relance "
        "< transmission au Trésor public), en jours après l'échéance."
    ]
    assert reminders.schedule_problems({"first_days": 10, "second_days": 20}) == []


def _at(day: date):
    return time_machine.travel(datetime.combine(day, time(7, 30), tzinfo=PARIS), tick=False)


def _run_twice(in_town, town):
    with in_town(town):
        first = send_reminders_for_town()
        again = send_reminders_for_town()
    assert not any(again.values()), again  # the second run the same day does nothing
    return first


def _stages(invoice):
    return list(
        ReminderStep.objects.filter(invoice=invoice)
        .order_by("done_on")
        .values_list("stage", flat=True)
    )


@pytest.mark.django_db
def test_unpaid_paid_and_paused_with_a_moved_clock(castres, in_town):
    with in_town(castres):
        paid = make_invoiced_family(castres, last_name="Payeur", days=2, run=False)
        paused = make_invoiced_family(castres, last_name="Echeancier", days=2, run=False)
        unpaid = make_invoiced_family(castres, last_name="Relance", days=2)  # invoices all 3
        paid_invoice = Invoice.objects.get(household=paid.household)
        Invoice.objects.filter(pk=paid_invoice.pk).update(
            status=Invoice.Status.PAID, amount_paid=paid_invoice.total
        )
        reminder_services.pause(
            paused.household, reason="Échéancier convenu", instalments="3 × 20 €"
        )
        invoice = unpaid.invoice
        due = invoice.due_date
        mails = OutboxMessage.objects.count()

    with _at(due + timedelta(days=14)):
        assert not any(_run_twice(in_town, castres).values())
    with _at(due + timedelta(days=15)):
        assert _run_twice(in_town, castres)[reminders.FIRST] == 1
    with _at(due + timedelta(days=29)):
        assert not any(_run_twice(in_town, castres).values())
    with _at(due + timedelta(days=30)):
        assert _run_twice(in_town, castres)[reminders.SECOND] == 1
    with _at(due + timedelta(days=60)):
        assert _run_twice(in_town, castres)[reminders.HANDOVER] == 1
    with _at(due + timedelta(days=400)):
        assert not any(_run_twice(in_town, castres).values())

    with in_town(castres):
        assert _stages(invoice) == [reminders.FIRST, reminders.SECOND, reminders.HANDOVER]
        assert _stages(paid_invoice) == []
        assert _stages(Invoice.objects.get(household=paused.household)) == []
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.HANDED_OVER
        sent = list(OutboxMessage.objects.order_by("id")[mails:])
        assert [m.to for m in sent] == [[invoice.payer_email]] * 3
        assert "Rappel : facture" in sent[0].subject
        assert "il reste" in sent[0].body and invoice.number in sent[0].body
        assert "transmise au Trésor public" in sent[2].subject
        # handed over: no online payment, and the family page says where to pay
        assert services.online_payment_refusal(invoice) == services.HANDED_OVER_SENTENCE
        client = Client()
        client.force_login(unpaid.user)
    with in_town(castres):
        page = client.get(f"/castres/billing/factures/{invoice.pk}/").content.decode()
        assert "transmise au Trésor public" in page
        assert "auprès de la trésorerie" in page
        assert "par carte bancaire</button>" not in page
        refused = client.post(f"/castres/billing/factures/{invoice.pk}/payer/", follow=True)
        assert "transmise au Trésor public" in refused.content.decode()
    with in_town(castres):
        assert not invoice.attempts.exists()


@pytest.mark.django_db
def test_a_handed_over_invoice_goes_into_the_next_pes_batch(castres, in_town):
    from modules.billing import pes_services
    from modules.billing.models import DebtorDetails, PesPiece

    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Titre", days=2)
        DebtorDetails.objects.create(household=fam.household, civility="M")
        Invoice.objects.filter(pk=fam.invoice.pk).update(status=Invoice.Status.HANDED_OVER)
        batch = pes_services.build_batch(
            commune=castres,
            regie_code=fam.invoice.regie_code,
            year=fam.invoice.year,
            month=fam.invoice.month,
        )
        assert PesPiece.objects.filter(batch=batch, invoice=fam.invoice).exists()


@pytest.mark.django_db
def test_staff_sees_the_unpaid_by_stage_and_pauses_a_family(castres, in_town):
    from accounts.models import User
    from accounts.testing import force_login_verified

    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Suivi", days=2)
        agent = User.objects.create_user(
            username="suivi-impayes", password="x" * 20, role="agent", service_areas=["billing"]
        )
        due = fam.invoice.due_date
    staff = Client()
    with _at(due + timedelta(days=16)):
        force_login_verified(staff, agent, castres)
        with in_town(castres):
            send_reminders_for_town()
        page = staff.get("/castres/billing/gestion/impayes/").content.decode()
        assert "Première relance envoyée — 1 facture" in page
        assert fam.invoice.number in page
        r = staff.post(
            f"/castres/billing/gestion/impayes/familles/{fam.household.pk}/suspendre/",
            {"motif": "  ", "echeancier": ""},
            follow=True,
        )
        assert "Indiquez le motif de la suspension" in r.content.decode()
        r = staff.post(
            f"/castres/billing/gestion/impayes/familles/{fam.household.pk}/suspendre/",
            {"motif": "Échéancier convenu", "echeancier": "2 × 10 €", "jusqua": "pas une date"},
            follow=True,
        )
        assert "Date de fin attendue" in r.content.decode()
        r = staff.post(
            f"/castres/billing/gestion/impayes/familles/{fam.household.pk}/suspendre/",
            {"motif": "Échéancier convenu", "echeancier": "2 × 10 €"},
            follow=True,
        )
        assert "Relances suspendues pour" in r.content.decode()
    with _at(due + timedelta(days=31)):
        force_login_verified(staff, agent, castres)
        with in_town(castres):
            assert not any(send_reminders_for_town().values())
        staff.post(f"/castres/billing/gestion/impayes/familles/{fam.household.pk}/reprendre/")
        with in_town(castres):
            assert send_reminders_for_town()[reminders.SECOND] == 1
