"""Reads for billing. Family reads are ALWAYS scoped to the signed-in family's
household (a foreign id is a 404, never a 403 that would confirm it exists);
the schema scopes everything to the town.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, F, Max, OuterRef, Q, Sum, Value
from django.db.models.functions import Concat
from django.http import Http404
from django.utils import timezone

from booking.models import Absence, Booking
from core import town_config
from families.models import Adult, Child, Household

from .accounting import InvoiceFact, OverpaymentFact, PaymentFact
from .lines import BookingFact, HouseholdFacts
from .models import (
    AccountCredit,
    BillingPreference,
    Invoice,
    InvoiceLine,
    Mandate,
    PayerRule,
    Payment,
    PaymentAttempt,
    PaymentSettings,
)
from .rules import PaidInvoice, childcare_paid

# --- the town's configuration (decisions/0006) -------------------------------------


def payment_settings() -> PaymentSettings | None:
    """The town's online-payment settings: the row derived from its `payment`
    section (BillingConfig.sync_town_rows), None when it has none. THE one
    reader of that section."""
    return PaymentSettings.objects.first()


def payment_provider() -> str:
    """The provider's code (`none` when the town has no online payment)."""
    row = payment_settings()
    return row.kind if row is not None else "none"


def service_order() -> dict[str, int]:
    """service code -> its rank in the town's configuration (active services)."""
    return dict(town_config.services().values_list("code", "position"))


def in_town_order(codes) -> list[str]:
    """Service codes in the town's own order (its configuration), unknown ones last."""
    order = service_order()
    return sorted(codes, key=lambda c: order.get(c, len(order)))


# --- who pays ------------------------------------------------------------------


def payers_for_households(household_ids: Iterable[int]) -> dict[int, object]:
    """household id -> the Adult who receives and pays its invoices.

    THE one place that decides who the payer is. The household's own `payer`
    when the households model has one and it is set; otherwise the household's
    first legal representative who is a guardian of one of its children (by
    creation order), else its first adult.
    """

    ids = list(set(household_ids))
    chosen: dict[int, object] = {}
    if any(f.name == "payer" for f in Household._meta.get_fields()):
        for adult in Adult.objects.filter(
            pk__in=Household.objects.filter(pk__in=ids, payer__isnull=False).values("payer")
        ):
            chosen[adult.household_id] = adult
    rest = [i for i in ids if i not in chosen]
    if rest:
        guardian = Adult.children.through.objects.filter(
            adult_id=OuterRef("pk"), child__household_id=OuterRef("household_id")
        )
        adults = (
            Adult.objects.filter(household_id__in=rest)
            .annotate(is_guardian=Exists(guardian))
            .order_by("household_id", "-is_guardian", "id")
        )
        for adult in adults:
            chosen.setdefault(adult.household_id, adult)
    return chosen


def payer_for_household(household) -> object | None:
    return payers_for_households([household.pk]).get(household.pk)


def _normalise(name: str) -> str:
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def household_facts(household_ids: Iterable[int], *, commune) -> dict[int, HouseholdFacts]:
    """What pricing needs about each household: its quotient familial (when
    the households model holds one) and whether it lives in the town (the
    non-resident surcharge: a household whose city is given and is not the
    town's; an unknown city is given the benefit of the doubt)."""

    fields = ["id", "city"]
    has_qf = any(f.name == "quotient_familial" for f in Household._meta.get_fields())
    if has_qf:
        fields.append("quotient_familial")
    town = _normalise(commune.name)
    facts = {}
    for row in Household.objects.filter(pk__in=list(set(household_ids))).values(*fields):
        city = _normalise(row["city"])
        facts[row["id"]] = HouseholdFacts(
            household_id=row["id"],
            qf=row.get("quotient_familial") if has_qf else None,
            resident=not city or city == town,
        )
    return facts


def e_invoice_households(household_ids: Iterable[int]) -> set[int]:
    return set(
        BillingPreference.objects.filter(
            household_id__in=list(set(household_ids)), e_invoice=True
        ).values_list("household_id", flat=True)
    )


def active_mandates(household_ids: Iterable[int]) -> dict[int, Mandate]:
    return {
        m.household_id: m
        for m in Mandate.objects.filter(
            household_id__in=list(set(household_ids)), status=Mandate.Status.ACTIVE
        )
    }


# --- the run's facts ---------------------------------------------------------------


def billable_facts(*, until: date) -> list[BookingFact]:
    """Every booking up to `until` that may cost something and was never
    billed: booked ones, and late cancellations. One query, plain tuples."""

    # A live charge: a charge line no credit note reversed. A credited booking
    # the corrective invoice did not bill again (an absence now awaiting a
    # decision) is billable again, as its next generation.
    reversed_ = InvoiceLine.objects.filter(
        kind="reversal",
        booking_id=OuterRef("booking_id"),
        generation=OuterRef("generation"),
        share_part=OuterRef("share_part"),
    )
    never_billed = ~Exists(
        InvoiceLine.objects.filter(booking_id=OuterRef("pk"), kind="charge").filter(
            ~Exists(reversed_)
        )
    )
    rows = (
        Booking.objects.filter(slot__day__lte=until)
        .filter(Q(status="booked") | Q(status="cancelled", cancelled_late=True))
        .filter(never_billed)
        .annotate(child_name=Concat("child__first_name", Value(" "), "child__last_name"))
        .values_list(*FACT_FIELDS)
    )
    return [BookingFact(*r) for r in rows.iterator(chunk_size=20_000)]


# BookingFact's fields, in order, as ORM paths from Booking.
FACT_FIELDS = (
    "id",
    "child_id",
    "child__household_id",
    "child_name",
    "child__birth_date",
    "slot__activity__service__code",
    "slot__activity__service__name",
    "slot__day",
    "status",
    "cancelled_late",
    "attendance",
    "absence__reason",
    "absence__decision",
    "created_by__adult__household_id",
)


def booking_facts(booking_ids: Iterable[int]) -> list[BookingFact]:
    """The current facts of given bookings (corrective invoices)."""

    rows = (
        Booking.objects.filter(pk__in=list(booking_ids))
        .annotate(child_name=Concat("child__first_name", Value(" "), "child__last_name"))
        .values_list(*FACT_FIELDS)
    )
    return [BookingFact(*r) for r in rows]


def payer_rules(child_ids: Iterable[int] | None = None) -> dict:
    """child id -> payer_rules.Rule, for the children that have one (few: a
    child of separated parents); None reads them all (the monthly run)."""

    qs = PayerRule.objects.all()
    if child_ids is not None:
        qs = qs.filter(child_id__in=list(set(child_ids)))
    return {r.child_id: r.as_rule() for r in qs}


def rebilling_generations(*, until: date) -> dict[int, int]:
    """booking id -> generation of its next charge, for bookings a credit note
    reversed (the others are billed as generation 1). Reads the small partial
    index of reversal lines only."""

    return {
        b: g + 1
        for b, g in InvoiceLine.objects.filter(kind="reversal", day__lte=until)
        .values("booking_id")
        .annotate(g=Max("generation"))
        .values_list("booking_id", "g")
    }


def illness_days(child_ids: Iterable[int], *, since: date, until: date) -> list[tuple[int, date]]:
    ids = list(set(child_ids))
    if not ids:
        return []
    return list(
        Absence.objects.filter(
            reason="illness",
            booking__child_id__in=ids,
            booking__slot__day__gte=since,
            booking__slot__day__lte=until,
        ).values_list("booking__child_id", "booking__slot__day")
    )


# --- the family's own data (404 for anything else) -----------------------------------


def family_household(user):
    """The household of a signed-in family account, or 404."""
    adult = getattr(user, "adult", None) if user.is_authenticated else None
    if adult is None or user.role != "family":
        raise Http404("Aucun foyer n'est rattaché à ce compte.")
    return adult.household


def family_invoices(user):
    household = family_household(user)
    return Invoice.objects.filter(household=household).order_by("-invoice_date", "-id")


def family_invoice(user, pk: int) -> Invoice:
    try:
        return family_invoices(user).get(pk=pk)
    except Invoice.DoesNotExist:
        raise Http404("Facture introuvable.") from None


def family_payment(user, pk: int) -> Payment:
    household = family_household(user)
    try:
        return Payment.objects.select_related("invoice").get(
            pk=pk, invoice__household=household, status=Payment.Status.VALID
        )
    except Payment.DoesNotExist:
        raise Http404("Paiement introuvable.") from None


def family_mandates(user):
    return Mandate.objects.filter(household=family_household(user))


def family_mandate(user, pk: int) -> Mandate:
    try:
        return family_mandates(user).get(pk=pk)
    except Mandate.DoesNotExist:
        raise Http404("Mandat introuvable.") from None


def family_attempt(user, reference: str):
    household = family_household(user)
    try:
        return PaymentAttempt.objects.select_related("invoice").get(
            reference=reference, invoice__household=household
        )
    except PaymentAttempt.DoesNotExist:
        raise Http404("Paiement introuvable.") from None


def staff_invoice(pk: int) -> Invoice:
    """Town staff: any invoice of the town (the schema is the town's)."""
    try:
        return Invoice.objects.select_related("household", "corrects").get(pk=pk)
    except Invoice.DoesNotExist:
        raise Http404("Facture introuvable.") from None


# --- staff figures -------------------------------------------------------------------


def unpaid_by_month() -> list[tuple[str, float]]:
    """What families still owe, per invoice month ("MM/YYYY", euros): invoices
    and corrective invoices to pay, partly paid or awaiting their debit (credit
    notes and cancelled invoices owe nothing). For the back-office figures."""

    rows = (
        Invoice.objects.filter(
            kind__in=["invoice", "corrective"], status__in=["to_pay", "partly_paid", "direct_debit"]
        )
        .values_list("invoice_date__year", "invoice_date__month")
        .annotate(owed=Sum(F("total") - F("amount_paid") - F("amount_credited")))
        .order_by("invoice_date__year", "invoice_date__month")
    )
    return [(f"{m:02d}/{y}", float(owed)) for y, m, owed in rows]


# --- fiscal attestation ---------------------------------------------------------------


@dataclass(frozen=True)
class AttestationChild:
    name: str
    birth_date: date
    amount: Decimal


@dataclass(frozen=True)
class FiscalAttestation:
    year: int
    payer_name: str
    payer_address: str
    children: tuple[AttestationChild, ...]
    issued_on: str

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.children), Decimal("0.00"))


def fiscal_attestation(household, *, year: int, today: date) -> FiscalAttestation:
    """Childcare of children under 6 PAID during `year` (payments dated that
    year, whatever the month invoiced), per child."""

    payments = list(
        Payment.objects.filter(
            invoice__household=household,
            status=Payment.Status.VALID,
            paid_at__year=year,
        ).select_related("invoice")
    )
    kinds = dict(town_config.services(active=None).values_list("code", "kind"))
    lines: dict[int, list] = {}
    for invoice_id, child_id, code, amount in InvoiceLine.objects.filter(
        invoice_id__in={p.invoice_id for p in payments},
        kind="charge",
        child__isnull=False,
    ).values_list("invoice_id", "child_id", "service_code", "amount"):
        lines.setdefault(invoice_id, []).append((child_id, kinds.get(code, ""), amount))
    paid = [
        PaidInvoice(
            amount=p.amount, invoice_total=p.invoice.total, lines=tuple(lines.get(p.invoice_id, ()))
        )
        for p in payments
    ]
    child_ids = {c for rows in lines.values() for c, _, _ in rows}
    children = Child.objects.in_bulk(child_ids)
    amounts = childcare_paid(
        paid, birth_dates={c.pk: c.birth_date for c in children.values()}, year=year
    )
    payer = payer_for_household(household)
    address = "\n".join(
        x for x in (household.address_line, f"{household.postcode} {household.city}".strip()) if x
    )
    return FiscalAttestation(
        year=year,
        payer_name=str(payer) if payer else household.name,
        payer_address=address,
        children=tuple(
            AttestationChild(name=str(children[c]), birth_date=children[c].birth_date, amount=a)
            for c, a in sorted(amounts.items(), key=lambda kv: children[kv[0]].birth_date)
        ),
        issued_on=f"{today:%d/%m/%Y}",
    )


def amount_due(household) -> tuple[Decimal, int]:
    """(what the household has left to pay, how many invoices), in one query."""

    row = Invoice.objects.filter(
        household=household,
        status__in=[Invoice.Status.TO_PAY, Invoice.Status.PARTLY_PAID],
    ).aggregate(due=Sum(F("total") - F("amount_paid") - F("amount_credited")), n=Count("id"))
    return row["due"] or Decimal(0), row["n"]


def open_credit(household) -> Decimal:
    """Money the household paid that no invoice owed, not yet refunded or used
    by the régie (models.AccountCredit), in one query."""

    if household is None:
        return Decimal(0)
    row = AccountCredit.objects.filter(
        household=household, status=AccountCredit.Status.OPEN
    ).aggregate(total=Sum("amount"))
    return row["total"] or Decimal(0)


def payable_invoices(household):
    return Invoice.objects.filter(
        household=household,
        status__in=[Invoice.Status.TO_PAY, Invoice.Status.PARTLY_PAID],
    ).order_by("invoice_date", "year", "month", "id")


_CREDIT_LABELS = {"sepa": "prélèvement", "reprise": "solde repris de l'ancien portail"}


def _credit_method(provider: str) -> str:
    if provider == "reprise":  # opening_balances.PROVIDER: an opening entry, no money received
        return "opening"
    return Payment.Method.DIRECT_DEBIT if provider == "sepa" else Payment.Method.ONLINE


def accounting_facts(start, end):
    """The invoices (by date), valid payments and over-payments (by the local day
    they were received) of [start, end], as plain facts for accounting.journal_lines.
    Three queries whatever the volume (test payments left out)."""

    invoices = [
        InvoiceFact(
            number=i.number,
            day=i.invoice_date,
            total=i.total,
            regie_code=i.regie_code,
            regie_name=i.regie_name,
            household_id=i.household_id,
            payer_name=i.payer_name,
            credit_note=i.kind == Invoice.Kind.CREDIT,
            corrects=i.corrects.number if i.corrects_id else "",
            opening=i.kind == Invoice.Kind.OPENING,
        )
        for i in Invoice.objects.filter(invoice_date__range=(start, end))
        .select_related("corrects")
        .order_by("invoice_date", "number")
    ]
    payments = [
        PaymentFact(
            receipt_number=p.receipt_number,
            day=timezone.localtime(p.paid_at).date(),
            amount=p.amount,
            method=p.method,
            method_label=p.how_label,
            means=p.desk_payment.means if p.desk_payment_id else "",
            invoice_number=p.invoice.number,
            regie_code=p.invoice.regie_code,
            regie_name=p.invoice.regie_name,
            household_id=p.invoice.household_id,
            payer_name=p.invoice.payer_name,
        )
        for p in Payment.objects.filter(
            status=Payment.Status.VALID, test=False, paid_at__date__range=(start, end)
        )
        .select_related("invoice", "desk_payment")
        .order_by("paid_at", "id")
    ]
    overpayments = [
        OverpaymentFact(
            reference=c.transaction_id,
            day=timezone.localtime(c.received_at).date(),
            amount=c.amount,
            method=_credit_method(c.provider),
            method_label=_CREDIT_LABELS.get(c.provider, "carte bancaire en ligne"),
            regie_code=c.regie_code,
            regie_name=c.regie_name,
            household_id=c.household_id,
            payer_name=c.household.name,
        )
        for c in AccountCredit.objects.filter(test=False, received_at__date__range=(start, end))
        .select_related("household")
        .order_by("received_at", "id")
    ]
    return invoices, payments, overpayments
