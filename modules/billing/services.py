"""Billing writes: the ONE write path of each use case (keyword-only, atomic;
e-mails and tasks after commit).

- run_month: the monthly invoicing run of a town (idempotent);
- issue_credit_note / issue_corrective_invoice: an issued invoice is never
  edited; it is cancelled by a credit note ("avoir") and replaced;
- start_online_payment / apply_notification / reconcile_waiting_payments:
  online payment, where the provider's server-to-server notification is the
  source of truth and a payment is recorded once per provider transaction;
- sign_mandate / revoke_mandate / export_direct_debits / record_debit_rejection:
  SEPA direct debit;
- set_e_invoice: « adhésion à la facture en ligne ».
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from core import metrics, town_config
from core.urls import tenant_reverse
from families.models import Household
from notifications.models import OutboxMessage
from notifications.outbox import queue_mail, render_mail, town_overrides
from paysim import keys

from . import numbering, rules, selectors
from .french import long_day, moment_label, month_label, of_month
from .lines import DraftInvoice, assign_payers, build_drafts, month_bounds
from .models import (
    AccountCredit,
    AttemptShare,
    BillingPreference,
    DirectDebit,
    Invoice,
    InvoiceLine,
    InvoicingRun,
    Mandate,
    Payment,
    PaymentAttempt,
    SepaExport,
)
from .payments import (
    ExpectedPayment,
    Notification,
    PaymentConfigurationError,
    PaymentRequest,
    RejectedNotification,
    gateway_from_settings,
    needs_another_look,
    reconcile_payfip_payment,
    verify_notification,
)
from .pricing import euros
from .sepa import (
    DirectDebit as SepaDebit,
)
from .sepa import (
    SepaError,
    build_pain008,
    check_prenotification,
    make_rum,
    sequence_type,
    validate_iban,
    validate_rum,
)
from .tariffs import parse_billing_settings
from .town_settings import Regie, parse_invoicing_settings

log = logging.getLogger(__name__)
ZERO = Decimal("0.00")


class BillingError(Exception):
    """A use case refused; the message is French, for the family or the staff."""


class BillingValidationError(BillingError):
    """Bad input: field -> French message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(" ".join(errors.values()))


# --- the town's settings -------------------------------------------------------------


_PARSED: dict[tuple[str, str, str], tuple] = {}


def _parse_town_settings(commune):
    """Billing's section of the document (`module_settings.billing`) with the
    town's services as derived rows (decisions/0006)."""
    section = town_config.module_settings(commune, "billing")
    rows = list(town_config.services())
    tariffs = parse_billing_settings(
        section or {"services": {}}, service_names={s.code: s.name for s in rows}
    )
    invoicing = parse_invoicing_settings(
        section,
        service_codes={s.code for s in rows},
        module_of_service={s.code: s.module for s in rows},
    )
    return tariffs, invoicing


def town_settings(commune):
    """(tariffs, invoicing settings) of a town, parsed once per configuration."""
    if not commune.config_digest:
        return _parse_town_settings(commune)
    key = (commune.config_digest, commune.slug, connection.schema_name)
    found = _PARSED.get(key)
    if found is None:
        if len(_PARSED) >= 512:
            _PARSED.clear()
        found = _PARSED[key] = _parse_town_settings(commune)
    return found


def current_commune():
    commune = getattr(connection, "tenant", None)
    if commune is None or getattr(commune, "schema_name", "public") == "public":
        raise RuntimeError("Billing runs inside a town's schema.")
    return commune


# --- the monthly run -------------------------------------------------------------------


@dataclass
class RunResult:
    run_id: int
    invoices: int
    lines: int
    deferred: int
    postponed: int
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    invoice_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.invoices} facture{'s' if self.invoices > 1 else ''} émise"
            f"{'s' if self.invoices > 1 else ''}, {self.lines} ligne"
            f"{'s' if self.lines > 1 else ''}"
        )
        if self.deferred:
            text += (
                f", {self.deferred} réservation{'s' if self.deferred > 1 else ''} en attente "
                "d'une décision sur une absence"
            )
        return text + "."


LINE_COLUMNS = (
    "invoice_id",
    "kind",
    "booking_id",
    "generation",
    "child_id",
    "child_name",
    "service_code",
    "service_name",
    "day",
    "quantity",
    "unit",
    "attendance",
    "billed_percent",
    "amount",
    "explanation",
    "position",
    "share_part",
)


def run_month(
    *, commune, year: int, month: int, today: date | None = None, by=None, notify: bool = True
) -> RunResult:
    """Invoice every billable booking up to the end of the month.

    Idempotent: a booking already on a live charge line is never billed again
    and there is at most one monthly invoice per household, régie and month
    (both are database constraints); a re-run with nothing new creates
    nothing. Lines that become billable after their month was invoiced (an
    absence decided late) go on the next month's invoice.
    """
    started = time.perf_counter()
    today = today or timezone.localdate()
    first, last = month_bounds(year, month)
    if last >= today:
        raise BillingError(
            f"Le mois {of_month(year, month)} n'est pas terminé : il sera facturé à partir "
            f"du {long_day(last + timedelta(days=1))}."
        )
    tariffs, invoicing = town_settings(commune)
    with transaction.atomic():
        # One run per town at a time (a re-run waits, then finds nothing to do).
        numbering.lock("monthly-run")
        run = InvoicingRun.objects.create(year=year, month=month, triggered_by=by)
        # Who pays each day (separated parents: the child's payer rule).
        facts = assign_payers(selectors.billable_facts(until=last), selectors.payer_rules())
        illness = selectors.illness_days(
            (f.child_id for f in facts if f.absence_reason == "illness"),
            since=first - timedelta(days=62),
            until=last,
        )
        households = selectors.household_facts({f.household_id for f in facts}, commune=commune)
        built = build_drafts(
            facts,
            households=households,
            tariffs=tariffs,
            invoicing=invoicing,
            illness_days=illness,
            quantities=invoicing.quantities,
        )
        generations = selectors.rebilling_generations(until=last)
        problems = list(built.problems)
        existing = set(
            Invoice.objects.filter(kind=Invoice.Kind.INVOICE, year=year, month=month).values_list(
                "household_id", "regie_code"
            )
        )
        drafts = [d for d in built.drafts if (d.household_id, d.regie.code) not in existing]
        postponed = sum(
            len(d.lines) for d in built.drafts if (d.household_id, d.regie.code) in existing
        )
        if postponed:
            problems.append(
                f"{postponed} ligne{'s' if postponed > 1 else ''} devenue"
                f"{'s' if postponed > 1 else ''} facturable{'s' if postponed > 1 else ''} après "
                "l'émission de la facture du mois : reportée(s) sur la facture suivante."
            )
        payers = selectors.payers_for_households({d.household_id for d in drafts})
        without_payer = [d for d in drafts if d.household_id not in payers]
        if without_payer:
            problems.append(
                f"{len(without_payer)} foyer(s) sans responsable légal : non facturé(s)."
            )
        drafts = [d for d in drafts if d.household_id in payers]
        invoices = _write_invoices(
            drafts,
            commune=commune,
            payers=payers,
            year=year,
            month=month,
            today=today,
            invoicing=invoicing,
            run=run,
            by=by,
            generations=generations,
        )
        line_count = sum(len(d.lines) for d in drafts)
        run.invoices_created = len(invoices)
        run.lines_created = line_count
        run.deferred = built.deferred
        run.problems = problems
        run.finished_at = timezone.now()
        run.save(
            update_fields=[
                "invoices_created",
                "lines_created",
                "deferred",
                "problems",
                "finished_at",
            ]
        )
        ids = [i.pk for i in invoices]
        if notify and ids:
            # Outbox rows in THIS transaction: the notices (also the SEPA
            # pre-notification) exist iff the invoices do, broker up or not.
            # billing's tasks import this module at load time: imported when called (no cycle).
            from .tasks import deliver_notices

            outbox = _queue_invoice_notices(invoices, commune=commune)
            if outbox:
                transaction.on_commit(lambda: _enqueue(deliver_notices, outbox))
    result = RunResult(
        run_id=run.pk,
        invoices=len(invoices),
        lines=line_count,
        deferred=built.deferred,
        postponed=postponed,
        problems=problems,
        seconds=time.perf_counter() - started,
        invoice_ids=ids,
    )
    log.info(
        "billing run",
        extra={
            "year": year,
            "month": month,
            "invoices": result.invoices,
            "lines": result.lines,
            "seconds": round(result.seconds, 2),
        },
    )
    return result


def _queue_invoice_notices(invoices, *, commune) -> list[int]:
    """« Votre facture est disponible » for each invoice with an e-mail address,
    with the debit date when there is one (the SEPA pre-notification), written
    to the e-mail outbox in bulk (notifications.OutboxMessage)."""

    debits = dict(
        DirectDebit.objects.filter(
            invoice__in=[i.pk for i in invoices],
            status=DirectDebit.Status.SCHEDULED,
        ).values_list("invoice_id", "collection_date")
    )
    rows = []
    overrides = town_overrides()  # the town's own texts, read once for the whole run
    for invoice in invoices:
        if not invoice.payer_email:
            continue
        debit_date = debits.get(invoice.pk)
        subject, body = render_mail(
            template="billing/email/invoice_available.txt",
            subject=(
                f"{commune.name} — votre facture {of_month(invoice.year, invoice.month)} "
                "est disponible"
            ),
            context={
                "commune": commune,
                "invoice": invoice,
                "total": euros(invoice.total),
                "due_date": long_day(invoice.due_date),
                "debit_date": long_day(debit_date) if debit_date else "",
                "url": tenant_reverse(commune, "billing:invoice", args=[invoice.pk], absolute=True),
            },
            overrides=overrides,
        )
        rows.append(OutboxMessage(to=[invoice.payer_email], subject=subject[:255], body=body))
    OutboxMessage.objects.bulk_create(rows, batch_size=2000)
    return [row.pk for row in rows]


def _enqueue(task, outbox_ids) -> None:
    """After commit: send now. If the broker is down, the outbox's beat task
    (notifications.tasks.flush_outboxes) sends the rows later."""
    try:
        task.delay(outbox_ids)
    except Exception:
        log.warning("billing notices not enqueued: the outbox will send them", exc_info=True)


def _payer_snapshot(adult, household) -> dict:
    address = "\n".join(
        x for x in (household.address_line, f"{household.postcode} {household.city}".strip()) if x
    )
    return {
        "payer": adult,
        "payer_name": f"{adult.first_name} {adult.last_name}",
        "payer_email": adult.email or getattr(adult.user, "email", "") or "",
        "payer_address": address,
    }


def _write_invoices(
    drafts: list[DraftInvoice],
    *,
    commune,
    payers,
    year,
    month,
    today,
    invoicing,
    run,
    by,
    kind=Invoice.Kind.INVOICE,
    corrects=None,
    reason="",
    generations=None,
) -> list[Invoice]:
    """Number, insert (bulk) and schedule debits for drafts. Inside the caller's
    transaction."""

    if not drafts:
        return []
    generations = generations or {}
    numbers = numbering.invoice_numbers(today.year, len(drafts), kind=kind)
    opens, closes = invoicing.payment_window(today)
    due = invoicing.due_date(today)
    households = Household.objects.in_bulk({d.household_id for d in drafts})
    e_invoice = selectors.e_invoice_households(households) if invoicing.e_invoice else set()
    mandates = selectors.active_mandates(households) if invoicing.direct_debit else {}
    period_start = date(year, month, 1)
    invoices = []
    for number, draft in zip(numbers, drafts, strict=True):
        total = draft.total
        mandate = mandates.get(draft.household_id)
        debit = bool(mandate and mandate.applies_from <= period_start and total > 0)
        invoices.append(
            Invoice(
                number=number,
                kind=kind,
                regie_code=draft.regie.code,
                regie_name=draft.regie.name,
                household_id=draft.household_id,
                **_payer_snapshot(payers[draft.household_id], households[draft.household_id]),
                year=year,
                month=month,
                invoice_date=today,
                due_date=due,
                payment_opens_at=opens,
                payment_closes_at=closes,
                total=total,
                paper=draft.household_id not in e_invoice,
                corrects=corrects,
                reason=reason,
                run=run,
                issued_by=by,
                status=rules.invoice_status(
                    kind=kind, total=total, paid=ZERO, credited=ZERO, debit_scheduled=debit
                ),
            )
        )
    Invoice.objects.bulk_create(invoices, batch_size=2000)
    _copy_lines(_line_rows(invoices, drafts, generations))
    now = timezone.now()
    debits = []
    for inv in invoices:
        if inv.status == Invoice.Status.DIRECT_DEBIT:
            debits.append(
                DirectDebit(
                    invoice=inv,
                    mandate=mandates[inv.household_id],
                    amount=inv.total,
                    # The invoice (paper or e-mail) announces the debit: that is the
                    # pre-notification, sent today, so collect 14 days later at least.
                    collection_date=rules.collection_date(due_date=inv.due_date, notified_on=today),
                    prenotified_at=now,
                )
            )
    DirectDebit.objects.bulk_create(debits, batch_size=2000)
    return invoices


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _line_rows(invoices, drafts, generations):
    """Each line as a row of PostgreSQL's COPY text format (LINE_COLUMNS).

    Formatted with one f-string per line, text escaped once per distinct
    value (explanations repeat): 4x faster than a generic per-field adapter.
    """
    memo: dict[str, str] = {}

    def esc(text: str) -> str:
        value = memo.get(text)
        if value is None:
            value = memo[text] = text.translate(_COPY_ESCAPES)
        return value

    for inv, draft in zip(invoices, drafts, strict=True):
        head = f"{inv.pk}\tcharge\t"
        for pos, line in enumerate(draft.lines):
            yield (
                f"{head}{line.booking_id}\t{generations.get(line.booking_id, 1)}\t"
                f"{line.child_id}\t{esc(line.child_name)}\t{esc(line.service_code)}\t"
                f"{esc(line.service_name)}\t{line.day.isoformat()}\t{line.quantity:f}\t"
                f"{esc(line.unit)}\t{esc(line.attendance)}\t{line.billed_percent:f}\t"
                f"{line.amount:f}\t{esc(line.explanation)}\t{pos}\t{line.share_part}"
            )


def _copy_lines(rows) -> int:
    """COPY pre-formatted rows in, by chunks (one round trip per chunk instead
    of one INSERT per line)."""
    count, chunk = 0, []
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY billing_invoiceline ({', '.join(LINE_COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in rows:
                chunk.append(row)
                if len(chunk) == 20_000:
                    copy.write("\n".join(chunk) + "\n")
                    count += len(chunk)
                    chunk = []
            if chunk:
                copy.write("\n".join(chunk) + "\n")
                count += len(chunk)
    return count


# --- credit notes and corrective invoices ------------------------------------------------------


def issue_credit_note(
    *, invoice: Invoice, reason: str, by=None, today: date | None = None
) -> Invoice:
    """Cancel an issued invoice by a credit note ("avoir") of the opposite amount.

    The invoice itself is not touched (immutable) except its payment state:
    `amount_credited` and its status. Money already paid stays recorded: the
    régie refunds it or deducts it (the staff page shows the balance).
    """
    reason = (reason or "").strip()
    if not reason:
        raise BillingValidationError({"reason": "Indiquez le motif de l'avoir."})
    today = today or timezone.localdate()
    commune = current_commune()
    _, invoicing = town_settings(commune)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.kind == Invoice.Kind.CREDIT:
            raise BillingError("Un avoir ne peut pas être annulé par un autre avoir.")
        if invoice.amount_credited:
            raise BillingError(f"La facture {invoice.number} a déjà été annulée par un avoir.")
        if invoice.direct_debits.filter(status=DirectDebit.Status.EXPORTED).exists():
            raise BillingError(
                f"La facture {invoice.number} a déjà été transmise en prélèvement : attendez le "
                "prélèvement (ou son rejet) avant d'émettre un avoir."
            )
        invoice.direct_debits.filter(status=DirectDebit.Status.SCHEDULED).update(
            status=DirectDebit.Status.CANCELLED
        )
        [number] = numbering.invoice_numbers(today.year, 1, kind=Invoice.Kind.CREDIT)
        credit = Invoice.objects.create(
            number=number,
            kind=Invoice.Kind.CREDIT,
            regie_code=invoice.regie_code,
            regie_name=invoice.regie_name,
            household_id=invoice.household_id,
            payer_id=invoice.payer_id,
            payer_name=invoice.payer_name,
            payer_email=invoice.payer_email,
            payer_address=invoice.payer_address,
            year=invoice.year,
            month=invoice.month,
            invoice_date=today,
            due_date=today,
            payment_opens_at=timezone.now(),
            payment_closes_at=timezone.now(),
            total=-invoice.total,
            paper=invoice.paper,
            corrects=invoice,
            reason=reason,
            issued_by=by,
            status=Invoice.Status.CREDIT,
        )
        lines = list(invoice.lines.filter(kind=InvoiceLine.Kind.CHARGE))
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=credit,
                kind=InvoiceLine.Kind.REVERSAL,
                booking_id=line.booking_id,
                generation=line.generation,
                share_part=line.share_part,
                child_id=line.child_id,
                child_name=line.child_name,
                service_code=line.service_code,
                service_name=line.service_name,
                day=line.day,
                quantity=line.quantity,
                unit=line.unit,
                attendance=line.attendance,
                billed_percent=line.billed_percent,
                amount=-line.amount,
                explanation=f"Annulation de la ligne de la facture {invoice.number}",
                position=line.position,
            )
            for line in lines
        )
        invoice.amount_credited = invoice.total
        _refresh_state(invoice)
    return credit


def issue_corrective_invoice(
    *, invoice: Invoice, reason: str, by=None, today: date | None = None
) -> tuple[Invoice, Invoice | None]:
    """Credit note for `invoice`, then a corrective invoice pricing the same
    bookings again from today's facts (an absence justified since, a QF
    corrected...). Returns (credit note, corrective invoice or None when
    nothing is billable any more)."""
    today = today or timezone.localdate()
    commune = current_commune()
    tariffs, invoicing = town_settings(commune)
    with transaction.atomic():
        credit = issue_credit_note(invoice=invoice, reason=reason, by=by, today=today)
        invoice.refresh_from_db()
        charges = {
            line.booking_id: line.generation
            for line in invoice.lines.filter(kind=InvoiceLine.Kind.CHARGE, booking__isnull=False)
        }
        parts = {
            (line.booking_id, line.share_part)
            for line in invoice.lines.filter(kind=InvoiceLine.Kind.CHARGE, booking__isnull=False)
        }
        facts = selectors.booking_facts(charges)
        households = selectors.household_facts({invoice.household_id}, commune=commune)
        # The corrected invoice's household pays the same days (or the same
        # share of a split day), whatever happened since.
        facts = assign_payers(facts, selectors.payer_rules({f.child_id for f in facts}))
        facts = [
            _with_household(f, invoice.household_id)
            for f in facts
            if (f.booking_id, f.share_part) in parts
        ]
        built = build_drafts(
            facts,
            households=households,
            tariffs=tariffs,
            invoicing=invoicing,
            illness_days=selectors.illness_days(
                {f.child_id for f in facts},
                since=date(invoice.year, invoice.month, 1) - timedelta(days=62),
                until=month_bounds(invoice.year, invoice.month)[1],
            ),
            quantities=invoicing.quantities,
        )
        lines = [line for d in built.drafts for line in d.lines]
        if not lines:
            return credit, None
        draft = DraftInvoice(
            invoice.household_id, Regie(code=invoice.regie_code, name=invoice.regie_name), lines
        )
        payer = invoice.payer or selectors.payer_for_household(invoice.household)
        [corrective] = _write_invoices(
            [draft],
            commune=commune,
            payers={invoice.household_id: payer},
            year=invoice.year,
            month=invoice.month,
            today=today,
            invoicing=invoicing,
            run=None,
            by=by,
            kind=Invoice.Kind.CORRECTIVE,
            corrects=invoice,
            reason=reason,
            generations={b: g + 1 for b, g in charges.items()},
        )
    return credit, corrective


def _with_household(fact, household_id):
    return fact._replace(household_id=household_id)


def _refresh_state(invoice: Invoice) -> None:
    """Recompute amount_paid and status from payments and debits; save them only."""
    paid = (
        invoice.payments.filter(status=Payment.Status.VALID).aggregate(s=Sum("amount"))["s"] or ZERO
    )
    scheduled = (
        invoice.direct_debits.filter(status=DirectDebit.Status.SCHEDULED).exists()
        or invoice.payments.filter(status=Payment.Status.SCHEDULED).exists()
    )
    invoice.amount_paid = paid
    invoice.status = rules.invoice_status(
        kind=invoice.kind,
        total=invoice.total,
        paid=paid,
        credited=invoice.amount_credited,
        debit_scheduled=scheduled,
    )
    invoice.save(update_fields=["amount_paid", "amount_credited", "status", "updated_at"])


# --- online payment ------------------------------------------------------------------------------


def gateway_for_town():
    row = selectors.payment_settings()
    if row is None:
        raise PaymentConfigurationError("Cette commune ne propose pas le paiement en ligne.")
    if getattr(settings, "PAYMENT_SIMULATOR", False):  # DEMO ONLY: prod.py refuses it
        return gateway_from_settings(
            row,
            simulator_url=keys.PATH,
            paybox_public_key=keys.paybox_public_key_pem(),
            simulator_site=settings.SITE_URL,
        )
    return gateway_from_settings(row)


HANDED_OVER_SENTENCE = (
    "Cette facture impayée a été transmise au Trésor public (trésorerie de la commune) "
    "pour recouvrement : elle ne se paie plus sur le portail ni à la régie. Réglez-la auprès "
    "de la trésorerie, en suivant l'avis qu'elle vous adressera, ou chez un buraliste agréé "
    "avec cette facture si elle porte un code de paiement de proximité."
)


def online_payment_refusal(invoice: Invoice, *, now: datetime | None = None) -> str | None:
    """Why this invoice cannot be paid online now (French), or None."""
    now = now or timezone.now()
    if invoice.kind == Invoice.Kind.CREDIT:
        return "Un avoir ne se paie pas."
    if invoice.status == Invoice.Status.CANCELLED:
        return "Cette facture a été annulée par un avoir."
    if invoice.balance <= 0:
        return "Cette facture est réglée."
    if invoice.status == Invoice.Status.HANDED_OVER:
        return HANDED_OVER_SENTENCE
    if invoice.status == Invoice.Status.DIRECT_DEBIT:
        debit = invoice.direct_debits.filter(status=DirectDebit.Status.SCHEDULED).first()
        when = f" le {long_day(debit.collection_date)}" if debit else ""
        return f"Cette facture sera payée par prélèvement automatique{when}."
    if now < invoice.payment_opens_at:
        return f"Le paiement en ligne ouvrira le {moment_label(invoice.payment_opens_at)}."
    if now > invoice.payment_closes_at:
        return (
            f"Le paiement en ligne était possible jusqu'au "
            f"{moment_label(invoice.payment_closes_at)} : réglez cette facture auprès de la "
            "régie."
        )
    return None


def start_online_payment(
    *, invoice: Invoice, user, return_url: str, notification_url: str, now: datetime | None = None
):
    """Open a payment attempt; returns (attempt, PaymentRedirect). Card data
    is typed on the provider's page only (redirect)."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        refusal = online_payment_refusal(invoice, now=now)
        if refusal:
            raise BillingError(refusal)
        gateway = gateway_for_town()
        count = invoice.attempts.count() + 1
        reference = f"{invoice.payment_reference}P{count:03d}"
        email = invoice.payer_email or getattr(user, "email", "")
        sep = "&" if "?" in return_url else "?"
        redirect = gateway.start(
            PaymentRequest(
                amount=invoice.balance,
                reference=reference,
                email=email,
                return_url=f"{return_url}{sep}ref={reference}",
                notification_url=notification_url,
                description=f"Facture {invoice.number}",
            )
        )
        attempt = PaymentAttempt.objects.create(
            invoice=invoice,
            reference=reference,
            provider=gateway.provider,
            provider_transaction_id=redirect.transaction_id,
            amount=invoice.balance,
            started_by=user if getattr(user, "is_authenticated", False) else None,
        )
    return attempt, redirect


def start_grouped_payment(
    *, invoices, user, return_url: str, notification_url: str, now: datetime | None = None
):
    """« Tout payer »: ONE payment attempt for several invoices of a household,
    allocated oldest first when the provider's notification arrives. Invoices
    that cannot be paid online now are left out; one invoice is a plain payment."""
    ids = sorted({i.pk for i in invoices})
    with transaction.atomic():
        locked = list(
            Invoice.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("invoice_date", "year", "month", "id")
        )
        payable = [i for i in locked if online_payment_refusal(i, now=now) is None]
        if not payable:
            raise BillingError("Aucune de ces factures ne peut être payée en ligne maintenant.")
        if len({i.household_id for i in payable}) != 1:
            raise BillingError("Ces factures ne sont pas celles d'un même foyer.")
        if len(payable) == 1:
            return start_online_payment(
                invoice=payable[0],
                user=user,
                return_url=return_url,
                notification_url=notification_url,
                now=now,
            )
        gateway = gateway_for_town()
        oldest = payable[0]
        count = oldest.attempts.count() + 1
        reference = f"{oldest.payment_reference}G{count:03d}"
        total = sum((i.balance for i in payable), Decimal(0))
        email = oldest.payer_email or getattr(user, "email", "")
        sep = "&" if "?" in return_url else "?"
        numbers = ", ".join(i.number for i in payable)
        redirect = gateway.start(
            PaymentRequest(
                amount=total,
                reference=reference,
                email=email,
                return_url=f"{return_url}{sep}ref={reference}",
                notification_url=notification_url,
                description=f"Factures {numbers}"[:120],
            )
        )
        attempt = PaymentAttempt.objects.create(
            invoice=oldest,
            reference=reference,
            provider=gateway.provider,
            provider_transaction_id=redirect.transaction_id,
            amount=total,
            started_by=user if getattr(user, "is_authenticated", False) else None,
        )
        AttemptShare.objects.bulk_create(
            AttemptShare(attempt=attempt, invoice=i, amount=i.balance) for i in payable
        )
    return attempt, redirect


def online_payment_unavailable(commune) -> str | None:
    """None when the town's online payment works; else ONE French sentence for
    families with the other ways to pay (never the technical cause, which the
    back office's configuration check shows to staff)."""
    try:
        gateway_for_town()
    except PaymentConfigurationError:
        _, invoicing = town_settings(commune)
        contact = getattr(commune, "contact_label", "") or "la mairie"
        phone = getattr(commune, "contact_phone", "")
        return (
            "Le paiement en ligne n'est pas disponible pour le moment. "
            f"{invoicing.how_to_pay.strip()} Renseignements : {contact}"
            + (f", {phone}" if phone else "")
            + "."
        )
    return None


@dataclass(frozen=True)
class NotificationOutcome:
    kind: str  # "paid" | "already_recorded" | "not_paid" | "rejected"
    message: str
    payment_id: int | None = None
    return_content: str | None = None

    @property
    def accepted(self) -> bool:
        return self.kind != "rejected"


def handle_notification(*, raw: str | bytes, server_to_server: bool = True) -> NotificationOutcome:
    """Read, verify and apply a provider's notification (the source of truth)."""
    gateway = gateway_for_town()
    notification = gateway.parse_notification(raw, server_to_server=server_to_server)
    return apply_notification(notification=notification)


def apply_notification(*, notification: Notification) -> NotificationOutcome:
    """Apply a read notification ONCE per provider transaction: replays and
    concurrent duplicates change nothing and send no second receipt."""
    n = notification
    accept_test = getattr(settings, "BILLING_ACCEPT_TEST_PAYMENTS", False)
    with transaction.atomic():
        # Locking the attempt serialises duplicates of one payment: the second
        # sees the first's committed payment (READ COMMITTED, new snapshot).
        attempt = (
            PaymentAttempt.objects.select_for_update()
            .filter(reference=n.order_id, provider=n.provider)
            .first()
        )
        expected = (
            ExpectedPayment(reference=attempt.reference, amount=attempt.amount) if attempt else None
        )
        verdict = verify_notification(n, expected=expected, accept_test=accept_test)
        if isinstance(verdict, RejectedNotification):
            log.warning(
                "payment notification rejected",
                extra={
                    "provider": n.provider,
                    "reason": str(verdict.reason),
                    "reference": n.order_id,
                },
            )
            metrics.record_refused_notification(
                provider=n.provider, reason=_reason_label(verdict.reason)
            )
            metrics.record_payment(provider=n.provider, outcome="rejected")
            return NotificationOutcome("rejected", verdict.message)
        if _transaction_recorded(n.provider, n.transaction_id):
            return NotificationOutcome(
                "already_recorded", "Paiement déjà enregistré.", return_content=n.return_content
            )
        invoice = Invoice.objects.select_for_update().get(pk=attempt.invoice_id)
        attempt.status = str(verdict.result)
        attempt.last_checked_at = timezone.now()
        attempt.save(update_fields=["status", "last_checked_at", "updated_at"])
        if not verdict.paid:
            metrics.after_commit(
                metrics.record_payment, provider=n.provider, outcome=str(verdict.result).lower()
            )
            return NotificationOutcome(
                "not_paid",
                f"Paiement non abouti ({verdict.result}).",
                return_content=n.return_content,
            )
        # A grouped payment (« Tout payer ») is spread over its invoices, oldest first.
        shares = list(attempt.shares.order_by("id"))  # created oldest first
        if shares:
            invoices = {
                i.pk: i
                for i in Invoice.objects.select_for_update()
                .filter(pk__in=[s.invoice_id for s in shares])
                .order_by("pk")
            }
            targets = [invoices[s.invoice_id] for s in shares]
        else:
            targets = [invoice]
        amounts, surplus = rules.allocate_oldest_first(verdict.amount, [i.balance for i in targets])
        payments, credit = [], None
        try:
            with transaction.atomic():
                if surplus > 0:
                    # Nothing owed this money (a second transaction for a settled
                    # invoice...): a credit on the family's account, never a
                    # second payment of the invoice, never lost.
                    credit = AccountCredit.objects.create(
                        household_id=invoice.household_id,
                        invoice=invoice,
                        regie_code=invoice.regie_code,
                        regie_name=invoice.regie_name,
                        amount=surplus,
                        provider=n.provider,
                        transaction_id=n.transaction_id,
                        attempt=attempt,
                        received_at=timezone.now(),
                        test=verdict.test,
                        bank_data={k: str(v) for k, v in n.bank_data.items() if k != "signature"},
                    )
                for target, amount in zip(targets, amounts, strict=True):
                    if amount <= 0:
                        continue
                    payments.append(
                        Payment.objects.create(
                            invoice=target,
                            method=Payment.Method.ONLINE,
                            provider=n.provider,
                            transaction_id=n.transaction_id,
                            attempt=attempt,
                            amount=amount,
                            paid_at=timezone.now(),
                            test=verdict.test,
                            bank_data={
                                k: str(v) for k, v in n.bank_data.items() if k != "signature"
                            },
                            receipt_number=numbering.receipt_number(timezone.localdate().year),
                        )
                    )
        except IntegrityError:  # the constraint is the last line of defence
            return NotificationOutcome(
                "already_recorded", "Paiement déjà enregistré.", return_content=n.return_content
            )
        for payment in payments:
            _refresh_state(payment.invoice)
            _queue_receipt(payment, payment.invoice)
        if payments:
            metrics.after_commit(
                metrics.record_payment,
                provider=n.provider,
                outcome="paid",
                amount_cents=int(sum(p.amount for p in payments) * 100),
            )
        if credit is not None:
            _alert_credit(credit, invoice)
            metrics.after_commit(metrics.record_payment, provider=n.provider, outcome="credit")
    if credit is not None and not payments:
        return NotificationOutcome(
            "credit",
            "Paiement enregistré au crédit du compte de la famille (facture déjà réglée).",
            return_content=n.return_content,
        )
    return NotificationOutcome(
        "paid",
        "Paiement enregistré.",
        payment_id=payments[0].pk if payments else None,
        return_content=n.return_content,
    )


def _transaction_recorded(provider: str, transaction_id: str) -> bool:
    """A provider transaction already became payments or a credit (replays)."""
    return (
        Payment.objects.filter(provider=provider, transaction_id=transaction_id).exists()
        or AccountCredit.objects.filter(provider=provider, transaction_id=transaction_id).exists()
    )


def _alert_credit(credit: AccountCredit, invoice: Invoice) -> None:
    """Tell the régie (its counter on the staff home lists open credits; an
    e-mail to the town's contact address) and the family (what happened to
    their money). Logged as a warning for the operator."""
    commune = current_commune()
    log.warning(
        "payment surplus kept as a credit",
        extra={
            "provider": credit.provider,
            "invoice": invoice.number,
            "amount": str(credit.amount),
        },
    )
    context = {
        "commune": commune,
        "invoice": invoice,
        "credit": credit,
        "amount": euros(credit.amount),
        "received_at": moment_label(credit.received_at),
        "household": credit.household.name,
    }
    if commune.contact_email:
        queue_mail(
            to=[commune.contact_email],
            subject=f"{commune.name} — trop-perçu de {euros(credit.amount)} à traiter "
            f"(facture {invoice.number})",
            template="billing/email/credit_alert.txt",
            context=context | {"url": _staff_credits_url(commune)},
        )
    if invoice.payer_email:
        queue_mail(
            to=[invoice.payer_email],
            subject=f"{commune.name} — paiement reçu, porté au crédit de votre compte",
            template="billing/email/credit_family.txt",
            context=context,
        )


def _staff_credits_url(commune) -> str:
    return tenant_reverse(commune, "billing:staff-credits", absolute=True)


def open_credits():
    """Credits the régie has not handled yet, oldest first."""
    return (
        AccountCredit.objects.filter(status=AccountCredit.Status.OPEN)
        .select_related("household", "invoice")
        .order_by("received_at", "id")
    )


def handle_credit(*, credit_id: int, note: str, by) -> AccountCredit | None:
    """The régie records what it did with a credit (refunded, used on an
    invoice...). Returns None when the credit is not open any more."""
    with transaction.atomic():
        credit = (
            AccountCredit.objects.select_for_update()
            .filter(pk=credit_id, status=AccountCredit.Status.OPEN)
            .first()
        )
        if credit is None:
            return None
        credit.status = AccountCredit.Status.HANDLED
        credit.handled_at = timezone.now()
        credit.handled_by = by
        credit.handled_by_label = by.get_full_name() or by.get_username()
        credit.handled_note = note
        credit.save(
            update_fields=["status", "handled_at", "handled_by", "handled_by_label", "handled_note"]
        )
    return credit


def _reason_label(reason) -> str:
    """A metric label from a rejection reason (an enum member or a string)."""
    return str(getattr(reason, "value", reason) or "other").lower()[:40]


def _queue_receipt(payment: Payment, invoice: Invoice) -> None:
    if not invoice.payer_email:
        return
    commune = current_commune()
    queue_mail(
        to=[invoice.payer_email],
        subject=f"{commune.name} — reçu de paiement de la facture {invoice.number}",
        template="billing/email/receipt.txt",
        context={
            "commune": commune,
            "invoice": invoice,
            "payment": payment,
            "amount": euros(payment.amount),
            "paid_at": moment_label(payment.paid_at),
        },
    )


def reconcile_waiting_payments(*, now: datetime | None = None) -> dict[str, int]:
    """Settle attempts left without a notification.

    PayFiP: ask PayFiP (the notification may never come); attempts still in
    progress are asked again next time, for up to a day. Other providers
    retry their own notifications: an attempt silent for a day expired.
    """
    now = now or timezone.now()
    counts = {"checked": 0, "paid": 0, "expired": 0, "errors": 0}
    open_statuses = [
        PaymentAttempt.Status.STARTED,
        PaymentAttempt.Status.WAITING,
        PaymentAttempt.Status.RECEIVED,
    ]
    try:
        gateway = gateway_for_town()
    except PaymentConfigurationError:
        return counts
    stale = now - timedelta(days=1)
    attempts = PaymentAttempt.objects.filter(status__in=open_statuses)
    if gateway.provider == "payfip_ws":
        for attempt in attempts.filter(
            started_at__lte=now - timedelta(minutes=5), provider="payfip_ws"
        ):
            counts["checked"] += 1
            outcome = check_payfip_attempt(attempt, gateway=gateway, now=now)
            counts["paid"] += outcome == "paid"
            counts["expired"] += outcome == "expired"
            counts["errors"] += outcome == "error"
    else:
        counts["expired"] += attempts.filter(started_at__lte=stale).update(
            status=PaymentAttempt.Status.EXPIRED, last_checked_at=now
        )
    return counts


def check_payfip_attempt(
    attempt: PaymentAttempt, *, gateway=None, now: datetime | None = None
) -> str:
    """Ask PayFiP what became of one attempt (PayFiP signs nothing: its answer
    to OUR query is the only proof). Returns "paid", "waiting", "expired",
    "not_paid", "rejected" or "error"."""
    now = now or timezone.now()
    gateway = gateway or gateway_for_town()
    try:
        notification = reconcile_payfip_payment(
            gateway, idop=attempt.provider_transaction_id, started_at=attempt.started_at
        )
    except Exception as exc:  # PayFiP unreachable: the job tries again
        log.warning("payfip reconciliation failed", extra={"error": str(exc)})
        return "error"
    if needs_another_look(notification):
        if attempt.started_at > now - timedelta(days=1):
            PaymentAttempt.objects.filter(pk=attempt.pk).update(
                status=PaymentAttempt.Status.WAITING, last_checked_at=now
            )
            return "waiting"
        PaymentAttempt.objects.filter(pk=attempt.pk).update(
            status=PaymentAttempt.Status.EXPIRED, last_checked_at=now
        )
        return "expired"
    outcome = apply_notification(notification=notification)
    return outcome.kind if outcome.kind != "already_recorded" else "paid"


# --- e-invoice ----------------------------------------------------------------------------


def set_e_invoice(*, household, enabled: bool, by) -> BillingPreference:
    commune = current_commune()
    _, invoicing = town_settings(commune)
    if not invoicing.e_invoice:
        raise BillingError("La commune ne propose pas la facture en ligne.")
    with transaction.atomic():
        pref, _ = BillingPreference.objects.select_for_update().get_or_create(household=household)
        pref.e_invoice = enabled
        pref.e_invoice_since = timezone.now() if enabled else None
        pref.updated_by = by
        pref.save()
    return pref


# --- SEPA direct debit ----------------------------------------------------------------------------


def sign_mandate(
    *,
    household,
    user,
    iban: str,
    holder_name: str,
    accepted: bool = True,
    ip: str | None = None,
    today: date | None = None,
) -> Mandate:
    """An electronic mandate: IBAN checked (RIB key included), holder named,
    a unique RUM from the town's gapless counter. A new mandate replaces the
    household's previous one."""
    commune = current_commune()
    _, invoicing = town_settings(commune)
    if invoicing.direct_debit is None:
        raise BillingError("La commune ne propose pas le prélèvement automatique.")
    errors = {}
    holder = " ".join((holder_name or "").split())
    if not holder:
        errors["holder_name"] = (
            "Indiquez le nom du titulaire du compte, tel qu'il figure sur le RIB."
        )
    elif len(holder) > 70:
        errors["holder_name"] = "Le nom du titulaire compte 70 caractères au plus."
    try:
        valid_iban = validate_iban(iban)
    except SepaError as exc:
        errors["iban"] = str(exc)
    if not accepted:
        errors["accepted"] = "Cochez la case pour autoriser le prélèvement (mandat SEPA)."
    if errors:
        raise BillingValidationError(errors)
    today = today or timezone.localdate()
    with transaction.atomic():
        for old in Mandate.objects.select_for_update().filter(
            household=household, status=Mandate.Status.ACTIVE
        ):
            _revoke(old)
        number = numbering.reserve("mandate")
        rum = validate_rum(
            make_rum(town_code=commune.slug, mandate_number=number, signed_on=today),
            iban=str(valid_iban),
        )
        bic = valid_iban.bic
        mandate = Mandate.objects.create(
            household=household,
            signed_by=user,
            rum=rum,
            holder_name=holder,
            iban=str(valid_iban),
            bic=str(bic) if bic else "",
            signed_at=timezone.now(),
            signed_ip=ip,
            applies_from=invoicing.direct_debit.applies_from(today),
        )
        if getattr(user, "email", ""):
            queue_mail(
                to=[user.email],
                subject=f"{commune.name} — votre mandat de prélèvement {rum}",
                template="billing/email/mandate.txt",
                context={
                    "commune": commune,
                    "mandate": mandate,
                    "creditor": invoicing.direct_debit.creditor,
                    "applies_from": of_month(mandate.applies_from.year, mandate.applies_from.month),
                },
            )
    return mandate


def _revoke(mandate: Mandate) -> None:
    mandate.status = Mandate.Status.REVOKED
    mandate.revoked_at = timezone.now()
    mandate.save(update_fields=["status", "revoked_at"])
    for debit in mandate.debits.filter(status=DirectDebit.Status.SCHEDULED).select_related(
        "invoice"
    ):
        debit.status = DirectDebit.Status.CANCELLED
        debit.save(update_fields=["status"])
        _refresh_state(Invoice.objects.select_for_update().get(pk=debit.invoice_id))


def revoke_mandate(*, mandate: Mandate, by) -> Mandate:
    """Stop direct debit: debits not yet sent to the bank are cancelled and
    their invoices are to pay again."""
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if mandate.status != Mandate.Status.ACTIVE:
            raise BillingError("Ce mandat n'est plus actif.")
        _revoke(mandate)
    return mandate


def export_direct_debits(*, collection_date: date, by, today: date | None = None) -> SepaExport:
    """One pain.008.001.02 file for every debit scheduled on `collection_date`
    (validated against the XSD before anything is saved)."""
    commune = current_commune()
    _, invoicing = town_settings(commune)
    if invoicing.direct_debit is None:
        raise BillingError("La commune ne propose pas le prélèvement automatique.")
    today = today or timezone.localdate()
    if collection_date <= today:
        raise BillingError(
            f"La date de prélèvement ({long_day(collection_date)}) doit être "
            "postérieure à aujourd'hui."
        )
    with transaction.atomic():
        debits = list(
            DirectDebit.objects.select_for_update()
            .filter(status=DirectDebit.Status.SCHEDULED, collection_date=collection_date)
            .select_related("mandate", "invoice")
            .order_by("id")
        )
        if not debits:
            raise BillingError(f"Aucun prélèvement programmé le {long_day(collection_date)}.")
        items = []
        for debit in debits:
            notified = timezone.localdate(debit.prenotified_at) if debit.prenotified_at else today
            check_prenotification(notified_on=notified, collection_date=collection_date)
            mandate = debit.mandate
            debit.sequence = str(
                sequence_type(
                    signed_on=timezone.localdate(mandate.signed_at),
                    last_collection_on=mandate.last_collection_on,
                    collection_date=collection_date,
                )
            )
            items.append(
                SepaDebit(
                    debtor_name=mandate.holder_name,
                    iban=mandate.iban,
                    amount=debit.amount,
                    rum=mandate.rum,
                    mandate_signed_on=timezone.localdate(mandate.signed_at),
                    sequence=debit.sequence,
                    end_to_end_id=debit.invoice.payment_reference,
                    remittance=f"{commune.name} facture {debit.invoice.number} "
                    f"{month_label(debit.invoice.year, debit.invoice.month)}",
                    bic=mandate.bic or None,
                )
            )
        file = build_pain008(
            creditor=invoicing.direct_debit.creditor, debits=items, collection_date=collection_date
        )
        export = SepaExport.objects.create(
            collection_date=collection_date,
            message_id=file.message_id,
            xml=file.xml,
            count=file.count,
            total=file.total,
            created_by=by,
        )
        # The money arrives on the collection date, not today: the payment is
        # "scheduled" until then (settle_direct_debits), dated when received.
        paid_at = collection_moment(collection_date)
        for debit in debits:
            debit.status = DirectDebit.Status.EXPORTED
            debit.export = export
            debit.save(update_fields=["status", "export", "sequence"])
            Mandate.objects.filter(pk=debit.mandate_id).update(last_collection_on=collection_date)
            Payment.objects.create(
                invoice=debit.invoice,
                method=Payment.Method.DIRECT_DEBIT,
                provider="sepa",
                transaction_id=f"{export.message_id}:{debit.pk}",
                amount=debit.amount,
                status=Payment.Status.SCHEDULED,
                paid_at=paid_at,
                receipt_number=numbering.receipt_number(collection_date.year),
            )
            _refresh_state(Invoice.objects.select_for_update().get(pk=debit.invoice_id))
    return export


def collection_moment(collection_date: date) -> datetime:
    """When a debit's money is received: noon (town time) of the collection date."""
    return timezone.make_aware(datetime.combine(collection_date, datetime.min.time())) + timedelta(
        hours=12
    )


def settle_direct_debits(*, today: date | None = None) -> int:
    """Daily: debits whose collection date has come are paid (unless the bank
    rejected them before: their payment is already "rejected")."""
    today = today or timezone.localdate()
    settled = 0
    due = Payment.objects.filter(
        status=Payment.Status.SCHEDULED, paid_at__lt=collection_moment(today) + timedelta(hours=12)
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            payment = (
                Payment.objects.select_for_update()
                .filter(pk=pk, status=Payment.Status.SCHEDULED)
                .first()
            )
            if payment is None:
                continue
            payment.status = Payment.Status.VALID
            payment.save(update_fields=["status"])
            _refresh_state(Invoice.objects.select_for_update().get(pk=payment.invoice_id))
            settled += 1
    return settled


def record_debit_rejection(*, debit: DirectDebit, reason: str, by=None) -> DirectDebit:
    """The bank returned a debit (R-transaction), before the collection date
    (the payment never becomes paid) or after it (the payment is reversed):
    the invoice is to pay again and the family is told, in French."""
    reason = (reason or "").strip()
    if not reason:
        raise BillingValidationError(
            {"reason": "Indiquez le motif du rejet (ex. AM04 provision insuffisante)."}
        )
    with transaction.atomic():
        debit = DirectDebit.objects.select_for_update().select_related("invoice").get(pk=debit.pk)
        if debit.status != DirectDebit.Status.EXPORTED:
            raise BillingError("Seul un prélèvement transmis à la banque peut être rejeté.")
        debit.status = DirectDebit.Status.REJECTED
        debit.rejection_reason = reason
        debit.save(update_fields=["status", "rejection_reason"])
        Payment.objects.filter(
            invoice=debit.invoice,
            provider="sepa",
            transaction_id=f"{debit.export.message_id}:{debit.pk}",
        ).update(status=Payment.Status.REJECTED, rejection_reason=reason)
        invoice = Invoice.objects.select_for_update().get(pk=debit.invoice_id)
        _refresh_state(invoice)
        if invoice.payer_email:
            commune = current_commune()
            queue_mail(
                to=[invoice.payer_email],
                subject=f"{commune.name} — prélèvement rejeté, facture {invoice.number} à payer",
                template="billing/email/debit_rejected.txt",
                context={
                    "commune": commune,
                    "invoice": invoice,
                    "reason": reason,
                    "amount": euros(invoice.balance),
                },
            )
    return debit
