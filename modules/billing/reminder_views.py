"""Staff page of the unpaid follow-up: invoices by stage, pausing a family's reminders."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.access import POST, STAFF, access
from families.models import Household

from . import reminder_services, reminders
from .french import long_day
from .models import Invoice, ReminderPause, ReminderStep
from .pricing import euros
from .staff_views import billing_staff

SHOWN = 100  # rows per stage (the counts say how many there are)
OVERDUE = "overdue"
STAGE_TITLES = {
    OVERDUE: "Échéance dépassée, pas encore relancées",
    reminders.FIRST: "Première relance envoyée",
    reminders.SECOND: "Seconde relance envoyée",
    reminders.HANDOVER: "Transmises au Trésor public",
}


@access(STAFF("billing"))
@billing_staff
def unpaid(request):
    today = timezone.localdate()
    invoices = list(
        Invoice.objects.filter(
            status__in=[*reminder_services.UNPAID, Invoice.Status.HANDED_OVER],
            due_date__lt=today,
        )
        .exclude(kind=Invoice.Kind.CREDIT)
        .order_by("due_date", "id")
    )
    steps: dict[int, list[ReminderStep]] = {}
    for step in ReminderStep.objects.filter(invoice__in=[i.id for i in invoices]):
        steps.setdefault(step.invoice_id, []).append(step)
    pauses = {p.household_id: p for p in ReminderPause.objects.all()}
    groups = {key: [] for key in STAGE_TITLES}
    for invoice in invoices:
        taken = {s.stage: s for s in steps.get(invoice.id, [])}
        stage = next((s for s in reversed(reminders.STAGES) if s in taken), OVERDUE)
        groups[stage].append(
            {
                "i": invoice,
                "balance": euros(invoice.balance),
                "due": long_day(invoice.due_date),
                "when": long_day(taken[stage].done_on) if stage in taken else "",
                "pause": pauses.get(invoice.household_id),
                "letter": reminder_services.has_letter(invoice, today),
            }
        )
    return render(
        request,
        "billing/staff/unpaid.html",
        {
            "groups": [
                {
                    "key": key,
                    "title": title,
                    "count": len(groups[key]),
                    "rows": groups[key][:SHOWN],
                    "total": euros(sum((r["i"].balance for r in groups[key]), start=0)),
                }
                for key, title in STAGE_TITLES.items()
            ],
            "pauses": [
                {"p": p, "until": long_day(p.until) if p.until else ""}
                for p in ReminderPause.objects.select_related("household").order_by(
                    "household__name"
                )
            ],
            "schedule": reminder_services.schedule_of(request.commune),
        },
    )


@access(STAFF("billing"), methods=POST)
@billing_staff
@require_POST
def pause(request, household_pk: int):
    household = get_object_or_404(Household, pk=household_pk)
    reason = " ".join(request.POST.get("motif", "").split())[:255]
    instalments = request.POST.get("echeancier", "").strip()[:2000]
    until = None
    if request.POST.get("jusqua"):
        try:
            until = date.fromisoformat(request.POST["jusqua"])
        except ValueError:
            messages.error(request, "Date de fin attendue au format JJ/MM/AAAA.")
            return redirect("billing:staff-unpaid")
    if not reason:
        messages.error(request, "Indiquez le motif de la suspension (ex. échéancier convenu).")
        return redirect("billing:staff-unpaid")
    reminder_services.pause(
        household, reason=reason, instalments=instalments, until=until, by=request.user
    )
    messages.success(request, f"Relances suspendues pour {household.name}.")
    return redirect("billing:staff-unpaid")


@access(STAFF("billing"), methods=POST)
@billing_staff
@require_POST
def resume(request, household_pk: int):
    household = get_object_or_404(Household, pk=household_pk)
    reminder_services.resume(household)
    messages.success(request, f"Relances reprises pour {household.name}.")
    return redirect("billing:staff-unpaid")


@access(STAFF("billing"), pk="overdue_invoice")
@billing_staff
def letter(request, pk: int):
    """The reminder letter (PDF) of an overdue or handed-over invoice, to print or send."""
    invoice = get_object_or_404(Invoice, pk=pk)
    today = timezone.localdate()
    if not reminder_services.has_letter(invoice, today):
        raise Http404("Pas de relance pour cette facture.")
    content = reminder_services.letter_pdf(invoice, request.commune, today=today)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="relance-{invoice.number}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
