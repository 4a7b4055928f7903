"""Unpaid follow-up: the daily run (reminders, handover) and staff's pauses.

`run_reminders` is what the per-town dispatcher runs every day
(BillingConfig.periodic_jobs, task billing.tasks.send_reminders_for_town). A
step is a ReminderStep row unique per invoice and stage, written in the same
transaction as its e-mail (outbox row): two runs, even concurrent, send one
reminder. Handing over stops online payment (status « transmise au Trésor
public ») and lets the invoice go in its month's next PES batch (pes_services).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from prometheus_client import Counter

from core import metrics, town_config
from core.urls import tenant_reverse
from notifications.outbox import queue_mail

from . import pdf, reminders, services
from .french import long_day
from .models import Invoice, ReminderPause, ReminderStep
from .pricing import euros

REMINDERS = Counter(
    "guichet_billing_reminders_total",
    "Relances d'impayés et transmissions au Trésor public, par commune et étape.",
    ["town", "stage"],
)

UNPAID = [Invoice.Status.TO_PAY, Invoice.Status.PARTLY_PAID]
TEMPLATE = {
    reminders.FIRST: "billing/email/reminder.txt",
    reminders.SECOND: "billing/email/reminder.txt",
    reminders.HANDOVER: "billing/email/handover.txt",
}


def schedule_of(commune) -> reminders.Schedule:
    section = town_config.module_settings(commune, "billing")
    return reminders.parse_schedule(section.get("reminders"))


def paused_households(today: date) -> set[int]:
    return set(
        ReminderPause.objects.filter(Q(until__isnull=True) | Q(until__gte=today)).values_list(
            "household_id", flat=True
        )
    )


@dataclass
class RunResult:
    steps: dict[str, int] = field(default_factory=lambda: dict.fromkeys(reminders.STAGES, 0))


def run_reminders(*, commune, today: date | None = None) -> RunResult:
    today = today or timezone.localdate()
    schedule = schedule_of(commune)
    paused = paused_households(today)
    candidates = (
        Invoice.objects.filter(status__in=UNPAID, due_date__lt=today)
        .exclude(kind=Invoice.Kind.CREDIT)
        .exclude(household_id__in=paused)
        .order_by("id")
    )
    done: dict[int, set[str]] = {}
    for invoice_id, stage in ReminderStep.objects.filter(
        invoice__in=candidates.values("id")
    ).values_list("invoice_id", "stage"):
        done.setdefault(invoice_id, set()).add(stage)
    result = RunResult()
    for invoice in candidates.iterator(chunk_size=500):
        if invoice.balance <= 0:
            continue
        stage = reminders.next_stage(
            due=invoice.due_date,
            today=today,
            done=frozenset(done.get(invoice.id, ())),
            schedule=schedule,
        )
        if stage is not None and _take_step(commune, invoice, stage, today):
            result.steps[stage] += 1
    return result


def _take_step(commune, invoice: Invoice, stage: str, today: date) -> bool:
    """One step in one transaction: False when another run took it first."""
    try:
        with transaction.atomic():
            locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
            if locked.status not in UNPAID or locked.balance <= 0:
                return False  # paid in the meantime
            ReminderStep.objects.create(
                invoice=locked, stage=stage, done_on=today, emailed=bool(locked.payer_email)
            )
            if stage == reminders.HANDOVER:
                locked.status = Invoice.Status.HANDED_OVER
                locked.save(update_fields=["status", "updated_at"])
            if locked.payer_email:
                queue_mail(
                    to=[locked.payer_email],
                    subject=_subject(commune, locked, stage),
                    template=TEMPLATE[stage],
                    context=_context(commune, locked, stage),
                )
            town = metrics.town_label()
            transaction.on_commit(lambda: REMINDERS.labels(town, stage).inc())
    except IntegrityError:
        return False  # the unique (invoice, stage) row: already taken
    return True


def _subject(commune, invoice, stage) -> str:
    if stage == reminders.HANDOVER:
        return f"{commune.name} — facture {invoice.number} transmise au Trésor public"
    word = "Rappel" if stage == reminders.FIRST else "Second rappel"
    return f"{commune.name} — {word} : facture {invoice.number} impayée"


def _context(commune, invoice, stage) -> dict:
    _, invoicing = services.town_settings(commune)
    return {
        "commune": commune,
        "invoice": invoice,
        "stage_label": reminders.LABELS[stage],
        "balance": euros(invoice.balance),
        "due_date": long_day(invoice.due_date),
        "how_to_pay": invoicing.how_to_pay,
        "url": tenant_reverse(commune, "billing:invoice", args=[invoice.pk], absolute=True),
        "letter_url": tenant_reverse(
            commune, "billing:invoice-reminder-pdf", args=[invoice.pk], absolute=True
        ),
    }


def has_letter(invoice, today: date) -> bool:
    """A reminder letter exists for invoices still owed after their due date
    (and for those handed over to the trésorerie)."""
    if invoice.kind == Invoice.Kind.CREDIT:
        return False
    if invoice.status == Invoice.Status.HANDED_OVER:
        return True
    return invoice.status in UNPAID and invoice.balance > 0 and invoice.due_date < today


def letter_pdf(invoice, commune, *, today: date) -> bytes:
    _, invoicing = services.town_settings(commune)
    return pdf.reminder_pdf(
        invoice,
        commune,
        how_to_pay=invoicing.how_to_pay,
        invoice_url=tenant_reverse(commune, "billing:invoice", args=[invoice.pk], absolute=True),
        today=today,
    )


def pause(household, *, reason: str, instalments: str = "", until=None, by=None) -> None:
    ReminderPause.objects.update_or_create(
        household=household,
        defaults={"reason": reason, "instalments": instalments, "until": until, "created_by": by},
    )


def resume(household) -> None:
    ReminderPause.objects.filter(household=household).delete()
