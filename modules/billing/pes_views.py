"""Staff pages of the PES V2 titles for Hélios (agents of billing, managers, admins)."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import filetypes
from core.access import POST, STAFF, access
from core.uploads import check_upload
from families.models import Household

from . import pes, pes_ack, pes_services
from .french import long_day, month_label
from .lines import previous_month
from .models import DebtorDetails, PesBatch
from .pricing import euros
from .staff_views import billing_staff

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _month(value: str, default: tuple[int, int]) -> tuple[int, int]:
    match = _MONTH.fullmatch(value or "")
    if match and 1 <= int(match[2]) <= 12 and 2000 <= int(match[1]) <= 2100:
        return int(match[1]), int(match[2])
    return default


@access(STAFF("billing"))
@billing_staff
def home(request):
    year, month = _month(request.GET.get("mois", ""), previous_month(timezone.localdate()))
    try:
        pes_services.helios_settings(request.commune)
        configured = True
    except pes_services.PesNotConfigured:
        configured = False
    regies = []
    for code, name in pes_services.regies_of_month(year, month) if configured else []:
        data = pes_services.preview(code, year, month)
        regies.append(
            {
                "code": code,
                "name": name,
                "count": len(data.pieces),
                "total": euros(data.total),
                "blocked": data.blocked,
                "blocked_invoices": data.blocked_invoices,
                "direct_debits": sum(1 for p in data.pieces if p.sepa is not None),
            }
        )
    batches = [
        {
            "b": b,
            "total": euros(b.total),
            "created": long_day(timezone.localtime(b.created_at).date()),
        }
        for b in PesBatch.objects.all()[:24]
    ]
    return render(
        request,
        "billing/staff/pes.html",
        {
            "configured": configured,
            "month_value": f"{year}-{month:02d}",
            "month_label": month_label(year, month),
            "regies": regies,
            "batches": batches,
            "civilities": DebtorDetails.Civility.choices,
        },
    )


@access(STAFF("billing"), methods=POST)
@billing_staff
@require_POST
def build(request):
    year, month = _month(request.POST.get("mois", ""), (0, 0))
    regie_code = request.POST.get("regie", "")[:40]
    back = reverse("billing:staff-pes") + (f"?mois={year}-{month:02d}" if year else "")
    if not year or not regie_code:
        messages.error(request, "Choisissez une régie et un mois.")
        return redirect(back)
    try:
        batch = pes_services.build_batch(
            commune=request.commune, regie_code=regie_code, year=year, month=month, by=request.user
        )
    except pes.PesError as exc:
        for problem in exc.problems[:20]:
            messages.error(request, problem)
        return redirect(back)
    messages.success(
        request,
        f"Bordereau n° {batch.bordereau} constitué : {batch.count} titre"
        f"{'s' if batch.count > 1 else ''} pour {euros(batch.total)}.",
    )
    return redirect("billing:staff-pes-batch", pk=batch.pk)


@access(STAFF("billing"), pk="pes_batch")
@billing_staff
def batch(request, pk: int):
    item = get_object_or_404(PesBatch, pk=pk)
    pieces = item.pieces.select_related("invoice").order_by("number")
    page = Paginator(pieces, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/staff/pes_batch.html",
        {
            "batch": item,
            "total": euros(item.total),
            "period": month_label(item.year, item.month),
            "created": long_day(timezone.localtime(item.created_at).date()),
            "sent": long_day(timezone.localtime(item.sent_at).date()) if item.sent_at else "",
            "page": page,
            "rows": [{"p": p, "amount": euros(p.amount)} for p in page],
        },
    )


@access(STAFF("billing"), pk="pes_batch")
@billing_staff
def download(request, pk: int):
    item = get_object_or_404(PesBatch, pk=pk)
    response = HttpResponse(bytes(item.xml), content_type="application/xml; charset=ISO-8859-1")
    response["Content-Disposition"] = f'attachment; filename="{item.file_name}"'
    return response


@access(STAFF("billing"), methods=POST, pk="pes_batch")
@billing_staff
@require_POST
def mark_sent(request, pk: int):
    item = get_object_or_404(PesBatch, pk=pk)
    pes_services.mark_sent(item, by=request.user)
    messages.success(request, f"Bordereau n° {item.bordereau} marqué comme transmis.")
    return redirect("billing:staff-pes-batch", pk=pk)


_REJECTION = re.compile(r"\s*(\d{1,8})\s*[:;,-]?\s*(.*)")


def parse_rejections(text: str) -> tuple[dict[int, str], list[str]]:
    """« 12 : adresse inconnue » one per line -> {12: 'adresse inconnue'}."""
    rejected, problems = {}, []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = _REJECTION.fullmatch(line)
        if not match:
            problems.append(
                f"Ligne {n} : écrivez le numéro de la pièce rejetée puis le motif (ex. « 12 : "
                "adresse inconnue »)."
            )
            continue
        rejected[int(match[1])] = match[2].strip() or "rejetée par la trésorerie"
    return rejected, problems


@access(STAFF("billing"), methods=POST, pk="pes_batch")
@billing_staff
@require_POST
def acknowledge(request, pk: int):
    item = get_object_or_404(PesBatch, pk=pk)
    rejected, problems = parse_rejections(request.POST.get("rejets", ""))
    if not problems:
        problems = pes_services.record_acknowledgement(item, rejected=rejected)
    if problems:
        for problem in problems:
            messages.error(request, problem)
    else:
        messages.success(
            request,
            "Accusé de réception enregistré : "
            + (
                f"{len(rejected)} pièce{'s' if len(rejected) > 1 else ''} rejetée"
                f"{'s' if len(rejected) > 1 else ''}, les autres acceptées."
                if rejected
                else "toutes les pièces acceptées."
            ),
        )
    return redirect("billing:staff-pes-batch", pk=pk)


ACK_MAX_BYTES = 5 * 1024 * 1024  # an acknowledgement is a few kilobytes


@access(STAFF("billing"), methods=POST, pk="pes_batch")
@billing_staff
@require_POST
def acknowledge_file(request, pk: int):
    """The treasury's acknowledgement file (PES_ACQUIT): accepted and rejected
    pieces recorded from it. A bad or foreign file changes nothing."""
    item = get_object_or_404(PesBatch, pk=pk)
    back = redirect("billing:staff-pes-batch", pk=pk)
    upload = request.FILES.get("accuse")
    if upload is None:
        messages.error(request, "Choisissez le fichier d'accusé de réception (XML) à déposer.")
        return back
    try:
        checked = check_upload(upload, allowed=(filetypes.XML,), limit=ACK_MAX_BYTES)
        ack = pes_ack.parse_ack(checked.content)
        rejected = pes_ack.rejections(
            ack,
            file_name=item.file_name,
            exercice=item.exercice,
            bordereau=item.bordereau,
            pieces=set(item.pieces.values_list("number", flat=True)),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return back
    except pes_ack.AckError as exc:
        messages.error(request, str(exc))
        return back
    problems = pes_services.record_acknowledgement(item, rejected=rejected)
    if problems:
        for problem in problems:
            messages.error(request, problem)
        return back
    accepted = item.count - len(rejected)
    messages.success(
        request,
        f"Accusé de réception « {checked.original_name} » enregistré : "
        f"{accepted} pièce{'s' if accepted > 1 else ''} acceptée{'s' if accepted > 1 else ''}"
        + (
            f", {len(rejected)} rejetée{'s' if len(rejected) > 1 else ''} (motifs dans la "
            "liste des pièces)."
            if rejected
            else "."
        ),
    )
    return back


@access(STAFF("billing"), methods=POST)
@billing_staff
@require_POST
def civility(request, household_pk: int):
    household = get_object_or_404(Household, pk=household_pk)
    value = request.POST.get("civilite", "")
    back = reverse("billing:staff-pes") + "?mois=" + request.POST.get("mois", "")[:7]
    if value not in DebtorDetails.Civility.values:
        messages.error(request, "Choisissez « M. » ou « Mme ».")
        return redirect(back)
    pes_services.set_civility(household, value, by=request.user)
    messages.success(request, f"Civilité enregistrée pour {household.name}.")
    return redirect(back)
