"""Staff: the families' absences over a period (« Léa absente du 8 au 10 »),
declared once for every booked service (booking.absence_periods). The list
shows the declarations with a day in the staff member's areas, those still to
examine first; a declaration's page shows each day with what billing does with
it, and takes one decision for the whole declaration or day by day. Reached
from the staff home's work queue and the staff menu (booking's AppConfig:
staff_counters / staff_nav)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.permissions import staff_required
from booking import absence_periods
from booking import absences as absence_services
from booking.family_space import booking_modules
from booking.forms import DecisionForm
from booking.models import Absence
from booking.services import BookingRefused
from core.access import GET_POST, STAFF, access


def staff_modules(request) -> list[str]:
    """The town's booking modules the staff member works in."""
    return [code for code in booking_modules(request) if request.user.works_in(code)]


@access(STAFF())
@staff_required()
def declarations(request):
    everything = request.GET.get("voir") == "toutes"
    return render(
        request,
        "booking/staff_declarations.html",
        {
            "declarations": absence_periods.staff_declarations(
                staff_modules(request), pending_only=not everything
            ),
            "everything": everything,
        },
    )


@access(STAFF("periscolaire"), methods=GET_POST, agent_other_area="not_found")
@staff_required()
def declaration(request, declaration_id):
    modules = staff_modules(request)
    found = absence_periods.staff_declaration(declaration_id, modules)
    here = reverse("gestion-absences:declaration", args=[found.pk])
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choisissez « Accepter » ou « Refuser ».")
            return redirect(here)
        decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"]
        raw = request.POST.get("absence", "")
        try:
            if raw:  # one day
                day = next(
                    (
                        d.absence
                        for d in absence_periods.declaration_days(found, modules)
                        if str(d.absence.pk) == raw
                    ),
                    None,
                )
                if day is None:
                    raise BookingRefused("Ce jour ne fait pas partie de la déclaration.")
                absence_services.decide_absence(
                    absence=day, decision=decision, comment=comment, actor=request.user
                )
                messages.success(
                    request, "Décision enregistrée pour ce jour ; la famille est prévenue."
                )
            else:  # the whole declaration
                decided = absence_periods.decide_declaration(
                    declaration=found,
                    decision=decision,
                    comment=comment,
                    actor=request.user,
                    modules=modules,
                )
                messages.success(
                    request,
                    f"Décision enregistrée pour {len(decided)} "
                    f"jour{'s' if len(decided) > 1 else ''} ; la famille est prévenue.",
                )
        except BookingRefused as exc:
            messages.error(request, str(exc))
        return redirect(here)
    days = absence_periods.declaration_days(found, modules)
    return render(
        request,
        "booking/staff_declaration.html",
        {
            "declaration": found,
            "days": days,
            "pending": sum(1 for d in days if d.decidable),
            "file_day": next((d.absence for d in days if d.absence.justification), None),
            "Decision": Absence.Decision,
        },
    )
