"""The accounting export page: pick a month or a date range, see the totals,
download the journal CSV (agents of billing, managers, admins)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core import town_config
from core.access import STAFF, access
from core.exports import csv_bytes

from . import accounting
from .french import long_day
from .lines import previous_month
from .pricing import euros
from .selectors import accounting_facts
from .staff_views import billing_staff


def _settings(request) -> accounting.ExportSettings:
    section = town_config.module_settings(request.commune, "billing")
    return accounting.export_settings(section.get("accounting_export"))


def _lines(request, start, end):
    return accounting.journal_lines(_settings(request), *accounting_facts(start, end))


def _period_args(request) -> tuple[str, str, str]:
    """(mois, du, au) from the query; none given: the month just ended."""
    mois = request.GET.get("mois", "")[:7]
    du, au = request.GET.get("du", "")[:10], request.GET.get("au", "")[:10]
    if not (mois or du or au):
        year, month = previous_month(timezone.localdate())
        mois = f"{year}-{month:02d}"
    return mois, du, au


@access(STAFF("billing"))
@billing_staff
def home(request):
    mois, du, au = _period_args(request)
    error, summary = "", None
    try:
        start, end = accounting.period_from(mois, du, au)
    except accounting.PeriodError as exc:
        error = str(exc)
    else:
        lines = _lines(request, start, end)
        debit, credit = accounting.totals(lines)
        counts = {
            kind: len({x.piece for x in lines if x.kind == kind}) for kind in accounting.KIND_LABELS
        }
        summary = {
            "start": long_day(start),
            "end": long_day(end),
            "lines": len(lines),
            "counts": counts,
            "debit": euros(debit),
            "credit": euros(credit),
            "query": urlencode({"du": start.isoformat(), "au": end.isoformat()})
            if du or au
            else urlencode({"mois": mois}),
        }
    return render(
        request,
        "billing/staff/accounting.html",
        {"mois": mois, "du": du, "au": au, "error": error, "summary": summary},
        status=400 if error else 200,
    )


@access(STAFF("billing"))
@billing_staff
def download(request):
    try:
        start, end = accounting.period_from(*_period_args(request))
    except accounting.PeriodError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    settings = _settings(request)
    headers, rows = accounting.journal_rows(
        settings, accounting.journal_lines(settings, *accounting_facts(start, end))
    )
    response = HttpResponse(csv_bytes(headers, rows), content_type="text/csv; charset=utf-8")
    name = f"journal-comptable-{request.commune.slug}-{accounting.file_stamp(start, end)}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
