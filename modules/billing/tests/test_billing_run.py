"""The monthly invoicing run on real PostgreSQL (Castres's real YAML): lines per
rule, one invoice per payer and régie, gapless numbers, idempotent re-runs,
immutability, credit notes and corrective invoices, direct-debit scheduling."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core import mail

from modules.billing import services
from modules.billing.desk import pay_invoice_at_desk
from modules.billing.models import (
    DirectDebit,
    ImmutableInvoiceError,
    Invoice,
    InvoiceLine,
    InvoicingRun,
)
from modules.billing.testing import book, school_days
from tests.factories import AdultFactory, ChildFactory, HouseholdFactory

pytestmark = pytest.mark.django_db

OCT = (2026, 10)
TODAY = date(2026, 11, 8)  # Castres: invoices of 08/11, payable online until 30/11 23:59
DAYS = school_days(*OCT, count=4)  # 1, 2, 5, 6 October 2026


def run(castres, *, month=OCT, today=TODAY, **kw):
    return services.run_month(commune=castres, year=month[0], month=month[1], today=today, **kw)


@pytest.fixture
def martin(family, in_town, castres):
    with in_town(castres):
        yield family


def test_lines_follow_the_rules_and_explain_each_price(martin, castres):
    lea, hugo = martin.children
    book(lea, "restauration-scolaire", DAYS[:1])
    book(lea, "restauration-scolaire", DAYS[1:2], attendance="absent")
    book(lea, "restauration-scolaire", DAYS[2:3], status="cancelled", cancelled_late=True)
    book(lea, "restauration-scolaire", DAYS[3:4], status="cancelled")  # in time
    book(hugo, "restauration-scolaire", DAYS[:1], absence=("family", "justified"))
    book(hugo, "restauration-scolaire", DAYS[1:2], absence=("illness", "pending"))
    result = run(castres)
    assert (result.invoices, result.lines, result.deferred) == (1, 4, 1)
    invoice = Invoice.objects.get(household=martin.household)
    lines = {(line.child_name, line.day): line for line in invoice.lines.all()}
    # Castres, October 2026: the 2026-09-01 version; no QF known: highest bracket 4,10 €.
    assert lines[("Léa Martin", DAYS[0])].amount == D("4.10")
    assert lines[("Léa Martin", DAYS[1])].amount == D("4.10")
    assert "absence non justifiée facturée 100 %" in lines[("Léa Martin", DAYS[1])].explanation
    assert "annulation hors délai" in lines[("Léa Martin", DAYS[2])].explanation
    justified = lines[("Hugo Martin", DAYS[0])]
    assert (
        justified.amount == D("0.00") and "absence justifiée, non facturée" in justified.explanation
    )
    assert invoice.total == D("12.30")
    assert (invoice.regie_code, invoice.regie_name) == (
        "periscolaire",
        "Régie scolaire et périscolaire",
    )
    assert (invoice.payer, invoice.payer_name) == (martin.adult, "Claire Martin")
    assert (invoice.invoice_date, invoice.due_date) == (TODAY, date(2026, 11, 30))
    assert invoice.status == Invoice.Status.TO_PAY
    assert invoice.paper  # Castres offers e-invoice; the Martins have not opted in


def test_one_invoice_per_payer_per_regie_and_gapless_numbers(martin, castres):
    lea, _ = martin.children
    book(lea, "restauration-scolaire", DAYS[:2])
    book(lea, "alsh-mercredi", [date(2026, 10, 7)])
    book(lea, "creche", [date(2026, 10, 8)])
    other = HouseholdFactory(name="Famille Petit")
    noe = ChildFactory(
        household=other,
        first_name="Noé",
        last_name="Petit",
        guardians=[AdultFactory(household=other, first_name="Paul")],
    )
    book(noe, "restauration-scolaire", DAYS[:1])
    result = run(castres)
    assert result.invoices == 4
    invoices = Invoice.objects.order_by("number")
    assert sorted((i.household_id, i.regie_code) for i in invoices) == sorted(
        [
            (martin.household.pk, "periscolaire"),
            (martin.household.pk, "alsh"),
            (martin.household.pk, "petite-enfance"),
            (other.pk, "periscolaire"),
        ]
    )
    numbers = [int(i.number.split("-")[1]) for i in invoices]
    assert all(i.number.startswith("F2026-") for i in invoices)
    assert numbers == list(range(numbers[0], numbers[0] + 4))
    # Castres's crèche is priced by the hour: 9 hours per booked day.
    creche = InvoiceLine.objects.get(service_code="creche")
    assert (creche.quantity, creche.unit) == (D(9), "heure")
    assert creche.amount == D("34.20")  # no QF: ceiling 3,80 €/h × 9 h


def test_rerunning_a_month_creates_no_duplicate(martin, castres):
    lea, hugo = martin.children
    book(lea, "restauration-scolaire", DAYS)
    book(hugo, "restauration-scolaire", DAYS)
    runs = InvoicingRun.objects.count()
    first = run(castres)
    assert (first.invoices, first.lines) == (1, 8)
    again = run(castres)
    assert (again.invoices, again.lines) == (0, 0)
    assert Invoice.objects.count() == 1 and InvoiceLine.objects.count() == 8
    assert InvoicingRun.objects.count() == runs + 2
    # A booking added to October after its invoice: on November's invoice.
    book(lea, "restauration-scolaire", [date(2026, 10, 29)])
    late = run(castres)
    assert (late.invoices, late.postponed) == (0, 1)
    assert "reportée(s) sur la facture suivante" in late.problems[0]
    november = run(castres, month=(2026, 11), today=date(2026, 12, 3))
    assert november.invoices == 1
    assert Invoice.objects.get(month=11).lines.get().day == date(2026, 10, 29)


def test_an_absence_decided_later_is_billed_on_a_later_invoice(martin, castres):
    lea, _ = martin.children
    [pending] = book(lea, "restauration-scolaire", DAYS[:1], absence=("illness", "pending"))
    book(lea, "restauration-scolaire", DAYS[1:2])
    assert run(castres).deferred == 1
    pending.absence.decision = "unjustified"
    pending.absence.save()
    run(castres, month=(2026, 11), today=date(2026, 12, 2))
    line = InvoiceLine.objects.get(booking=pending)
    assert (line.invoice.month, line.amount) == (11, D("4.10"))


def test_the_current_month_cannot_be_invoiced(castres):
    with pytest.raises(services.BillingError, match="n'est pas terminé"):
        services.run_month(commune=castres, year=2026, month=11, today=date(2026, 11, 30))


def test_issued_invoice_is_immutable_in_the_model_and_the_database(martin, castres):
    book(martin.children[0], "restauration-scolaire", DAYS[:2])
    run(castres)
    invoice = Invoice.objects.get()
    invoice.total = D("1.00")
    with pytest.raises(ImmutableInvoiceError, match="ne peut plus être modifiée"):
        invoice.save()
    with pytest.raises(ImmutableInvoiceError):
        invoice.save(update_fields=["total"])
    with pytest.raises(ImmutableInvoiceError, match="ne peut pas être supprimée"):
        invoice.delete()
    line = invoice.lines.first()
    line.amount = D("0.01")
    with pytest.raises(ImmutableInvoiceError):
        line.save()
    # Bulk writes go through the querysets, which refuse them too.
    for attempt in (
        lambda: Invoice.objects.filter(pk=invoice.pk).update(total=D("1.00")),
        lambda: Invoice.objects.filter(pk=invoice.pk).update(payer_name="X"),
        lambda: Invoice.objects.bulk_update([invoice], ["total"]),
        lambda: Invoice.objects.filter(pk=invoice.pk).delete(),
        lambda: InvoiceLine.objects.filter(invoice=invoice).update(amount=0),
        lambda: invoice.lines.update(amount=0),
        lambda: InvoiceLine.objects.filter(invoice=invoice).delete(),
    ):
        with pytest.raises(ImmutableInvoiceError, match="émise"):
            attempt()
    invoice.refresh_from_db()
    assert invoice.total == D("8.20") and invoice.lines.count() == 2
    # The payment state may change.
    Invoice.objects.filter(pk=invoice.pk).update(status="paid", amount_paid=invoice.total)


def test_credit_note_and_corrective_invoice_instead_of_an_edit(martin, castres):
    lea, _ = martin.children
    bookings = book(lea, "restauration-scolaire", DAYS[:3], attendance="absent")
    run(castres)
    invoice = Invoice.objects.get()
    assert invoice.total == D("12.30")
    # The family brings a medical certificate for the first day, after the invoice.
    from booking.models import Absence

    Absence.objects.create(booking=bookings[0], reason="family", decision="justified")
    with pytest.raises(services.BillingValidationError, match="motif"):
        services.issue_corrective_invoice(invoice=invoice, reason=" ", today=date(2026, 11, 12))
    credit, corrective = services.issue_corrective_invoice(
        invoice=invoice, reason="Absence justifiée après facturation", today=date(2026, 11, 12)
    )
    invoice.refresh_from_db()
    assert (credit.kind, credit.total, credit.corrects) == ("credit", D("-12.30"), invoice)
    assert credit.number.startswith("A2026-")
    assert [line.amount for line in credit.lines.all()] == [D("-4.10")] * 3
    assert (corrective.kind, corrective.total, corrective.corrects) == (
        "corrective",
        D("8.20"),
        invoice,
    )
    assert {line.generation for line in corrective.lines.all()} == {2}
    assert (invoice.status, invoice.amount_credited, invoice.balance) == (
        "cancelled",
        D("12.30"),
        D("0.00"),
    )
    with pytest.raises(services.BillingError, match="déjà été annulée"):
        services.issue_credit_note(invoice=invoice, reason="encore")
    with pytest.raises(services.BillingError, match="autre avoir"):
        services.issue_credit_note(invoice=credit, reason="non")
    # A re-run bills nothing again.
    assert run(castres).lines == 0
    # Numbers stay gapless across invoices, credit notes and corrective invoices.
    numbers = sorted(int(i.number.split("-")[1]) for i in Invoice.objects.all())
    assert numbers == list(range(numbers[0], numbers[0] + 3))


def test_credited_booking_left_out_of_a_correction_is_billed_again_later(martin, castres):
    lea, _ = martin.children
    [b] = book(lea, "restauration-scolaire", DAYS[:1])
    run(castres)
    from booking.models import Absence

    Absence.objects.create(booking=b, reason="illness", decision="pending")
    credit, corrective = services.issue_corrective_invoice(
        invoice=Invoice.objects.get(), reason="Absence signalée", today=date(2026, 11, 12)
    )
    assert corrective is None  # nothing billable until staff decide
    b.absence.decision = "unjustified"
    b.absence.save()
    run(castres, month=(2026, 11), today=date(2026, 12, 2))
    line = InvoiceLine.objects.get(booking=b, kind="charge", generation=2)
    assert line.invoice.month == 11


def test_e_invoice_and_direct_debit_at_invoicing(
    castres, bondoufle, in_town, django_capture_on_commit_callbacks
):
    with in_town(castres):
        household = HouseholdFactory()
        adult = AdultFactory(household=household, email="a@example.org")
        book(
            ChildFactory(household=household, guardians=[adult]), "restauration-scolaire", DAYS[:1]
        )
        services.set_e_invoice(household=household, enabled=True, by=None)
        run(castres)
        assert Invoice.objects.get(household=household).paper is False
        with pytest.raises(services.BillingError, match="prélèvement"):
            services.sign_mandate(
                household=household, user=None, iban="FR7630006000011234567890189", holder_name="A"
            )
    with in_town(bondoufle):
        household = HouseholdFactory(city="Bondoufle")
        adult = AdultFactory(household=household, email="b@example.org")
        book(
            ChildFactory(household=household, guardians=[adult]), "restauration-scolaire", DAYS[:2]
        )
        mandate = services.sign_mandate(
            household=household,
            user=None,
            iban="FR76 3000 6000 0112 3456 7890 189",
            holder_name="  Anne   Durand ",
            today=date(2026, 10, 1),
        )
        assert (mandate.holder_name, mandate.applies_from) == ("Anne Durand", date(2026, 10, 1))
        with pytest.raises(services.BillingError, match="facture en ligne"):
            services.set_e_invoice(household=household, enabled=True, by=None)
        with django_capture_on_commit_callbacks(execute=True):
            result = services.run_month(commune=bondoufle, year=2026, month=10, today=TODAY)
        invoice = Invoice.objects.get(pk=result.invoice_ids[0])
        assert invoice.status == Invoice.Status.DIRECT_DEBIT
        debit = DirectDebit.objects.get(invoice=invoice)
        # Bondoufle pays at 30 days: due 08/12, >= 14 days after the notice.
        assert (debit.collection_date, debit.amount) == (date(2026, 12, 8), invoice.total)
        assert services.online_payment_refusal(invoice) == (
            "Cette facture sera payée par prélèvement automatique le mardi 8 décembre 2026."
        )
    # The notice e-mail is the SEPA pre-notification.
    notice = next(m for m in mail.outbox if m.to == ["b@example.org"])
    assert "prélevée sur votre compte le mardi 8 décembre 2026" in notice.body


def test_payer_is_the_first_guardian_until_households_name_one(castres, in_town):
    from modules.billing.selectors import payers_for_households

    with in_town(castres):
        household = HouseholdFactory()
        step = AdultFactory(household=household, first_name="Beau-parent")
        mother = AdultFactory(household=household, first_name="Mère")
        ChildFactory(household=household, guardians=[mother])
        assert payers_for_households([household.pk]) == {household.pk: mother}
        lonely = HouseholdFactory()
        assert payers_for_households([lonely.pk]) == {}
        del step


def test_non_resident_surcharge_from_the_household_city(castres, in_town):
    from modules.billing.selectors import household_facts

    with in_town(castres):
        here, there, unknown = (
            HouseholdFactory(city="CASTRES"),
            HouseholdFactory(city="Albi"),
            HouseholdFactory(city=""),
        )
        facts = household_facts([here.pk, there.pk, unknown.pk], commune=castres)
        assert [facts[h.pk].resident for h in (here, there, unknown)] == [True, False, True]


def test_lines_written_by_copy_keep_odd_characters(castres, in_town):
    with in_town(castres):
        household = HouseholdFactory()
        adult = AdultFactory(household=household)
        child = ChildFactory(
            household=household, first_name="Zoé\tà\\b", last_name="N'Guyen\nX", guardians=[adult]
        )
        book(child, "restauration-scolaire", DAYS[:1])
        run(castres)
        line = InvoiceLine.objects.get(invoice__household=household)
        assert line.child_name == "Zoé\tà\\b N'Guyen\nX"
        assert (line.amount, line.quantity, line.billed_percent) == (D("4.10"), D(1), D(100))


def test_monthly_dispatch_runs_every_town_for_the_month_just_ended(castres, bondoufle, in_town):
    """The beat entry (BillingConfig.periodic_jobs): through the platform's one
    dispatcher (one task per town, spread over the window; tasks run inline
    here, as eager tasks)."""
    from core.contributions import periodic_jobs
    from core.scheduling import beat_entries
    from core.tasks import dispatch_to_towns
    from modules.billing.testing import billed_month, make_invoiced_family

    with in_town(castres):
        here = make_invoiced_family(castres, last_name="Dispatch", run=False)
    with in_town(bondoufle):
        there = make_invoiced_family(bondoufle, last_name="Dispatch", run=False)
    year, month = billed_month()
    entry = beat_entries(periodic_jobs())["billing-monthly-run"]
    kwargs = {**entry["kwargs"], "task_kwargs": {"year": year, "month": month}}
    assert dispatch_to_towns(**kwargs) >= 2
    for town, fam in ((castres, here), (bondoufle, there)):
        with in_town(town):
            assert Invoice.objects.get(household=fam.household).month == month


def test_unpaid_by_month_counts_what_families_still_owe(martin, castres):
    from modules.billing.selectors import unpaid_by_month

    book(martin.children[0], "restauration-scolaire", DAYS[:2])
    run(castres)
    invoice = Invoice.objects.get(household=martin.household)
    pay_invoice_at_desk(invoice=invoice, amount=D("1.00"), by=None)
    assert ("11/2026", 7.2) in unpaid_by_month()


def test_household_qf_and_named_payer_are_used(martin, castres):
    """The households model's quotient familial and payer (when set) drive the run."""
    lea, _ = martin.children
    other = AdultFactory(
        household=martin.household,
        first_name="Marc",
        last_name="Martin",
        email="marc.martin@example.org",
    )
    martin.household.quotient_familial = 650
    martin.household.payer = other
    martin.household.save()
    book(lea, "restauration-scolaire", DAYS[:1])
    run(castres)
    invoice = Invoice.objects.get(household=martin.household)
    line = invoice.lines.get()
    # Castres, October 2026: QF 650 -> bracket 2 (451–700 €) of the 2026 grid.
    assert line.amount == D("2.10")
    assert line.explanation.startswith("QF 650 € → tranche 2")
    assert (invoice.payer, invoice.payer_email) == (other, "marc.martin@example.org")


def test_invoice_notices_are_outbox_rows_of_the_run_transaction(martin, castres):
    """Written with the invoices (the broker may be down after commit: the
    outbox's beat task sends them then); none when the run writes nothing."""
    from notifications.models import OutboxMessage

    book(martin.children[0], "restauration-scolaire", DAYS[:1])
    before = OutboxMessage.objects.count()
    run(castres)
    [notice] = OutboxMessage.objects.all()[before:]
    assert notice.to == ["claire.martin@example.org"] and notice.sent_at is None
    assert notice.subject == "Castres — votre facture d'octobre 2026 est disponible"
    assert "À régler avant le lundi 30 novembre 2026" in notice.body
    run(castres)
    assert OutboxMessage.objects.count() == before + 1
