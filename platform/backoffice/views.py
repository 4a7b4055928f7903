"""The town's back-office at /<slug>/gestion/ (docs/decisions/1000).

Access: `staff_required(area)` (town staff with a verified second factor);
configuration pages are for town admins only (`town_admin_required`). Every
configuration change goes through tenants.services.apply_town_config.
"""

from __future__ import annotations

import datetime
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import staff_required
from backoffice import charts, selectors
from backoffice.forms import RULE_CHOICES, ModulesForm, SearchForm, ServiceForm
from core import contributions, town_config
from core.access import GET_POST, POST, STAFF, TOWN_ADMIN, access
from core.contributions import staff_counters
from core.exports import spreadsheet_response
from core.modules import registry, service_kinds
from demandes.selectors import demandes_for_staff
from tenants.config import ConfigError
from tenants.models import ConfigVersion
from tenants.service_rules import preview_sentence, problems_by_prefix, rule_from_fields
from tenants.services import (
    Actor,
    apply_town_config,
    diff_versions,
    export_yaml,
    restore_version,
    with_modules,
)

PAGE = 50


def town_admin_required(view):
    @staff_required()
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.role != "town_admin":
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _actor(request) -> Actor:
    return Actor.of(request.user, request.commune.schema_name)


def apply_config(request, data, message):
    """Apply; on refusal return the problems (French), nothing saved."""
    try:
        apply_town_config(
            commune=request.commune,
            data=data,
            actor=_actor(request),
            message=message or "Modification depuis la gestion",
            source="gestion",
        )
    except ConfigError as exc:
        return exc.problems
    return None


# --- home and dashboard ------------------------------------------------------------


@access(STAFF())
@never_cache
@staff_required()
def home(request):
    """The work queue: counters of what is waiting, each for the person's
    areas and linking to the filtered list (contributed by the apps through
    their AppConfig, core.contributions), then the figures of the coming days."""

    today = timezone.localdate()
    per_day = selectors.bookings_per_day(today)
    occupancy = selectors.occupancy_per_site(today)
    counters = staff_counters(request)
    return render(
        request,
        "backoffice/home.html",
        {
            "today": today,
            "counters": counters,
            "busy": [c for c in counters if c.count],
            "idle": [c for c in counters if not c.count],
            "cards": contributions.staff_home_cards(request),
            "per_day": per_day,
            "per_day_svg": charts.bar_chart(
                per_day, title="Réservations par jour (14 prochains jours)"
            ),
            "occupancy": occupancy,
            "occupancy_svg": charts.bar_chart(
                occupancy,
                title="Taux d'occupation par lieu (7 prochains jours)",
                unit=" %",
                max_value=100,
                decimals=0,
            ),
        },
    )


# --- families --------------------------------------------------------------------------


@access(STAFF())
@never_cache
@staff_required()
def families(request):
    form = SearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(selectors.search_households(q), PAGE).get_page(request.GET.get("page"))
    return render(request, "backoffice/families.html", {"form": form, "page": page, "q": q})


# --- exports ----------------------------------------------------------------------------


@access(STAFF())
@never_cache
@staff_required()
def exports(request):
    return render(request, "backoffice/exports.html")


FAMILY_COLUMNS = [
    "Foyer",
    "Adresse",
    "Code postal",
    "Commune",
    "Quotient familial",
    "Adultes",
    "E-mails",
    "Enfants",
]
DEMANDE_COLUMNS = ["N°", "Objet", "Type", "Service", "Statut", "Foyer", "Envoyée le"]


def _family_rows():
    for h in selectors.search_households("").iterator(chunk_size=500):
        adults = list(h.adults.all())
        yield [
            h.name,
            h.address_line,
            h.postcode,
            h.city,
            h.quotient_familial or "",
            ", ".join(f"{a.first_name} {a.last_name}" for a in adults),
            ", ".join(a.email for a in adults if a.email),
            ", ".join(
                f"{c.first_name} {c.last_name} ({c.birth_date:%d/%m/%Y})" for c in h.children.all()
            ),
        ]


def _demande_rows(user):
    for d in demandes_for_staff(user).select_related("household").order_by("-created_at"):
        yield [
            d.pk,
            d.subject,
            d.kind,
            d.service_area,
            d.get_status_display(),
            d.household.name if d.household else "",
            timezone.localtime(d.created_at).strftime("%d/%m/%Y %H:%M"),
        ]


def tabular_response(rows, columns, name, fmt, *, stamp: str = ""):
    """A CSV or XLSX download `<name>-<town>-<stamp>` (core.exports: formulas neutralised)."""
    stamp = stamp or timezone.localdate().isoformat()
    return spreadsheet_response(
        columns, rows, filename=f"{name}-{connection.tenant.slug}-{stamp}", fmt=fmt, sheet=name
    )


@access(STAFF())
@never_cache
@staff_required()
def export_families(request, fmt):
    return tabular_response(_family_rows(), FAMILY_COLUMNS, "familles", fmt)


@access(STAFF())
@never_cache
@staff_required()
def export_demandes(request, fmt):
    return tabular_response(_demande_rows(request.user), DEMANDE_COLUMNS, "demandes", fmt)


# --- configuration (town admins) ---------------------------------------------------------


def config_copy(request) -> dict:
    """The whole document, to edit (core.town_config.editable)."""
    return town_config.editable(request.commune)


@access(TOWN_ADMIN)
@never_cache
@town_admin_required
def config(request):
    data = town_config.editable(request.commune)
    modules, kinds, rules = registry(), service_kinds(), dict(RULE_CHOICES)
    # French labels, never the YAML's codes (rule kinds, module and service kinds).
    services = [
        {
            **s,
            "kind_label": kinds[s["kind"]][1].label if s.get("kind") in kinds else s.get("kind"),
            "rule_label": rules.get(((s.get("deadlines") or {}).get("booking") or {}).get("rule")),
        }
        for s in data.get("services", [])
    ]
    return render(
        request,
        "backoffice/config.html",
        {
            "data": data,
            "pages": contributions.backoffice_config_pages(request),
            "modules": modules,
            "module_labels": [
                modules[c].module_label for c in data.get("modules", []) if c in modules
            ],
            "services": services,
        },
    )


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def config_modules(request):
    choices = [(code, m.module_label) for code, m in sorted(registry().items())]
    form = ModulesForm(
        request.POST or None,
        choices=choices,
        initial={"modules": list(town_config.enabled_modules(request.commune))},
    )
    problems = []
    if request.method == "POST" and form.is_valid():
        data = config_copy(request)
        with_modules(data, [c for c, _ in choices if c in form.cleaned_data["modules"]])
        result = apply_config(request, data, form.cleaned_data["message"] or "Modules activés")
        if result is None:
            messages.success(request, "Modules enregistrés : le changement est en vigueur.")
            return redirect("backoffice:config")
        problems = [(p.key, p.message) for p in result]
    return render(
        request,
        "backoffice/config_modules.html",
        {"form": form, "problems": problems or []},
        status=422 if problems else 200,
    )


def _service_index(request, code) -> int:
    for i, s in enumerate(town_config.editable(request.commune).get("services", [])):
        if s["code"] == code:
            return i
    raise Http404("Service inconnu.")


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def config_service(request, code):
    index = _service_index(request, code)
    service = town_config.editable(request.commune)["services"][index]
    form = ServiceForm(request.POST or None, initial=ServiceForm.initial_for(service))
    problems, preview = [], ""
    if form.is_bound and form.is_valid():
        previous = (service.get("deadlines") or {}).get("booking")
        rule = rule_from_fields(form.cleaned_data["rule"], form.rule_values(), previous)
        preview = preview_sentence(rule, form.cleaned_data["preview_day"] or _default_day())
        if "save" in request.POST:
            data = config_copy(request)
            target = data["services"][index]
            target["name"] = form.cleaned_data["name"]
            if form.cleaned_data["description"]:
                target["description"] = form.cleaned_data["description"]
            else:
                target.pop("description", None)
            target.setdefault("deadlines", {})["booking"] = rule
            result = apply_config(request, data, form.cleaned_data["message"] or f"Service {code}")
            if result is None:
                messages.success(
                    request, f"« {target['name']} » enregistré : la règle est en vigueur."
                )
                return redirect("backoffice:config")
            problems = problems_by_prefix(result, f"services[{index}]") or [
                (p.key, p.message) for p in result
            ]
            _attach_field_errors(form, problems)
    elif not form.is_bound:
        booking = (service.get("deadlines") or {}).get("booking") or {"rule": "none"}
        preview = preview_sentence(booking, _default_day())
    return render(
        request,
        "backoffice/config_service.html",
        {
            "form": form,
            "service": service,
            "problems": problems,
            "preview": preview,
        },
        status=422 if problems else 200,
    )


def _attach_field_errors(form, problems):
    for key, message in problems:
        name = key.rsplit(".", 1)[-1]
        if name in form.fields:
            form.add_error(name, message)
        elif name == "rule":
            form.add_error("rule", message)


def _default_day() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=14)


@access(TOWN_ADMIN)
@never_cache
@town_admin_required
def config_preview(request, code):
    """The live preview's fragment (htmx, on every change of the rule's fields)."""
    index = _service_index(request, code)
    service = town_config.editable(request.commune)["services"][index]
    form = ServiceForm(request.GET)
    form.is_valid()  # partial data is fine for a preview
    data = getattr(form, "cleaned_data", {})
    previous = (service.get("deadlines") or {}).get("booking")
    rule = rule_from_fields(
        data.get("rule") or request.GET.get("rule", "none"), form.rule_values(), previous
    )
    sentence = preview_sentence(rule, data.get("preview_day") or _default_day())
    return render(request, "backoffice/_preview.html", {"preview": sentence})


@access(TOWN_ADMIN)
@never_cache
@town_admin_required
def config_export(request):
    response = HttpResponse(
        export_yaml(town_config.editable(request.commune)),
        content_type="application/yaml; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{request.commune.slug}.yaml"'
    return response


def _versions(request):
    connection.set_schema_to_public()
    try:
        return list(ConfigVersion.objects.filter(commune_id=request.commune.pk).order_by("-number"))
    finally:
        connection.set_tenant(request.commune)


@access(TOWN_ADMIN)
@never_cache
@town_admin_required
def history(request):
    page = Paginator(_versions(request), PAGE).get_page(request.GET.get("page"))
    return render(request, "backoffice/history.html", {"page": page})


@access(TOWN_ADMIN)
@never_cache
@town_admin_required
def version(request, number):
    versions = {v.number: v for v in _versions(request)}
    current = versions.get(number) or _404()
    before = versions.get(number - 1)
    return render(
        request,
        "backoffice/version.html",
        {
            "version": current,
            "diff": diff_versions(before.data if before else None, current.data),
            "is_current": current.digest == request.commune.config_digest,
        },
    )


def _404():
    raise Http404("Version inconnue.")


@access(TOWN_ADMIN)
@never_cache
@town_admin_required
def version_export(request, number):
    v = next((v for v in _versions(request) if v.number == number), None) or _404()
    response = HttpResponse(export_yaml(v.data), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{request.commune.slug}-v{number}.yaml"'
    )
    return response


@access(TOWN_ADMIN, methods=POST)
@require_POST
@town_admin_required
def version_restore(request, number):
    v = next((v for v in _versions(request) if v.number == number), None) or _404()
    v.commune = request.commune
    try:
        restore_version(version=v, actor=_actor(request))
    except ConfigError as exc:
        for p in exc.problems:
            messages.error(request, str(p))
        return redirect("backoffice:version", number=number)
    messages.success(request, f"Version {number} restaurée.")
    return redirect("backoffice:history")
