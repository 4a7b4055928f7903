"""Billing's back-office pages: the town admin's configuration (online payment,
tariffs and common billing rules, régies and SEPA creditor) and the billing
overview of staff (tariffs in force, unpaid amounts).

The back-office knows them only through BillingConfig's `backoffice_config_pages`
and `staff_nav` (core.contributions); their URLs are billing's
(/<slug>/billing/gestion/...), switched off with the module. Like every
configuration page, each form edits a copy of the town's configuration and hands
it to tenants.services.apply_town_config (through backoffice.views.apply_config):
validated (billing's own checks: BillingConfig.config_problems), all-or-nothing,
versioned.
"""

from __future__ import annotations

import datetime
import os

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import staff_required
from backoffice.config_views import FIX, attach_problem, render_config_form, with_more_rows
from backoffice.views import apply_config, config_copy, town_admin_required
from core import town_config
from core.access import GET_POST, POST, STAFF, TOWN_ADMIN, access
from tenants.service_rules import problems_by_prefix

from .config_forms import (
    BillingRulesForm,
    BracketFormSet,
    DirectDebitForm,
    HeliosForm,
    PaymentForm,
    RegieFormSet,
    TariffServiceForm,
    TariffVersionForm,
)
from .payments.providers import PROVIDERS
from .pricing import PricingError, ServiceTariff, price_session
from .selectors import unpaid_by_month
from .tariffs import parse_version

# --- billing overview (agents of billing, managers, admins) ------------------------------


@access(STAFF("billing"))
@never_cache
@staff_required("billing")
def overview(request):
    """The tariffs in force and what families still owe per invoice month."""
    section = _section(town_config.editable(request.commune))
    services = {
        s["code"]: s["name"] for s in town_config.editable(request.commune).get("services", [])
    }
    tariffs = [
        (services.get(code, code), version)
        for code, spec in (section.get("services") or {}).items()
        for version in spec.get("versions", [])
    ]
    return render(
        request,
        "billing/staff_overview.html",
        {"tariffs": tariffs, "unpaid": unpaid_by_month()},
    )


def _section(config: dict) -> dict:
    """`module_settings.billing` of a town configuration (empty when unset)."""
    return (config.get("module_settings") or {}).get("billing") or {}


# --- payment ------------------------------------------------------------------------


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def payment(request):
    current = town_config.editable(request.commune).get("payment") or {"provider": "none"}
    wanted = request.POST.get("provider") or request.GET.get("provider") or current["provider"]
    if wanted not in PROVIDERS:
        wanted = current["provider"] if current["provider"] in PROVIDERS else "none"
    initial = PaymentForm.initial_for(current if wanted == current["provider"] else {})
    initial["provider"] = wanted
    problems: list[tuple[str, str]] = []
    if request.method == "POST" and "save" in request.POST:  # else: another provider chosen
        form = PaymentForm(request.POST, provider=wanted)
        if form.is_valid():
            data = config_copy(request)
            data["payment"] = form.value(current)
            result = apply_config(
                request, data, form.cleaned_data["message"] or "Paiement en ligne"
            )
            if result is None:
                messages.success(request, "Paiement en ligne enregistré.")
                return redirect("backoffice:config")
            for key, message in problems_by_prefix(result, "payment"):
                if not attach_problem(form, key, message):
                    problems.append((f"payment.{key}" if key else "payment", message))
            problems += [(p.key, p.message) for p in result if not p.key.startswith("payment")]
            if not problems:
                problems.append(("", FIX))
    else:
        form = PaymentForm(provider=wanted, initial=initial)
    # Whether each named variable exists on this server (never its value).
    defined = {
        f.name: bool(os.environ.get(str(f.value() or "")))
        for f in form.secret_fields()
        if f.value()
    }
    return render_config_form(
        request,
        "billing/config_payment.html",
        {"form": form, "defined": defined},
        problems,
        [form] if "save" in request.POST else (),
    )


# --- tariffs ------------------------------------------------------------------------


def _billing_section(request) -> dict:
    if not town_config.has_module(request.commune, "billing"):
        raise Http404("Le module « Facturation et paiement » n'est pas activé.")
    return (town_config.editable(request.commune).get("module_settings") or {}).get("billing") or {
        "services": {}
    }


def _status(version: dict, today: datetime.date, versions: list[dict]) -> str:
    day = datetime.date.fromisoformat(version["applies_from"])
    if day > today:
        return "future"
    later = [datetime.date.fromisoformat(v["applies_from"]) for v in versions]
    return "current" if not [d for d in later if day < d <= today] else "past"


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def tariffs(request):
    section = _billing_section(request)
    today = timezone.localdate()
    form = BillingRulesForm(request.POST or None, initial=BillingRulesForm.initial_for(section))
    problems: list[tuple[str, str]] = []
    if request.method == "POST" and form.is_valid():
        data = config_copy(request)
        target = data.setdefault("module_settings", {}).setdefault("billing", {"services": {}})
        form.apply_to(target, today=today)
        result = apply_config(
            request, data, form.cleaned_data["message"] or "Règles de facturation"
        )
        if result is None:
            messages.success(request, "Règles de facturation enregistrées.")
            return redirect("billing:config-tariffs")
        for p in result:
            if not attach_problem(form, p.key, p.message):
                problems.append((p.key, p.message))
        if not problems:
            problems.append(("", FIX))
    services = []
    for service in town_config.editable(request.commune).get("services", []):
        entry = (section.get("services") or {}).get(service["code"]) or {}
        versions = sorted(entry.get("versions", []), key=lambda v: v["applies_from"])
        services.append(
            {
                "code": service["code"],
                "name": service["name"],
                "versions": [(v, _status(v, today, versions)) for v in versions],
                "settings": TariffServiceForm(
                    initial=TariffServiceForm.initial_for(entry), prefix=service["code"]
                )
                if versions
                else None,
            }
        )
    return render_config_form(
        request,
        "billing/config_tariffs.html",
        {"form": form, "services": services},
        problems,
        [form] if request.method == "POST" else (),
    )


@access(TOWN_ADMIN, methods=POST)
@require_POST
@town_admin_required
def tariff_settings(request, code):
    """A billed service's sessions per month (simulator) and quantity per booking."""
    name = _service_name(request, code)
    entry = (_billing_section(request).get("services") or {}).get(code)
    if not entry:
        raise Http404("Ce service n'a pas de tarif.")
    form = TariffServiceForm(request.POST, prefix=code)
    if form.is_valid():
        data = config_copy(request)
        form.apply_to(data["module_settings"]["billing"]["services"][code])
        result = apply_config(
            request, data, form.cleaned_data["message"] or f"Tarif {code} : réglages"
        )
        if result is None:
            messages.success(request, f"« {name} » : réglages de facturation enregistrés.")
            return redirect("billing:config-tariffs")
        for p in result:
            messages.error(request, p.message)
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"« {name} » — {label} : {error}" if label else error)
    return redirect("billing:config-tariffs")


def _service_name(request, code) -> str:
    for s in town_config.editable(request.commune).get("services", []):
        if s["code"] == code:
            return s["name"]
    raise Http404("Service inconnu.")


def _version_initial(versions: list[dict]) -> tuple[dict, list[dict]]:
    """The new version starts as a copy of the latest one, from next September."""
    today = timezone.localdate()
    september = datetime.date(today.year + (today.month >= 9), 9, 1)
    latest = max(versions, key=lambda v: v["applies_from"]) if versions else {"kind": "grid"}
    initial = {
        k: latest.get(k) for k in ("kind", "unit", "rate_percent", "floor", "ceiling", "price")
    }
    initial["applies_from"] = september
    grid = latest.get("grid") or [{"price": None}]
    return initial, [{"up_to": row.get("up_to"), "price": row.get("price")} for row in grid]


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def tariff_version(request, code):
    section = _billing_section(request)
    name = _service_name(request, code)
    versions = ((section.get("services") or {}).get(code) or {}).get("versions", [])
    problems: list[tuple[str, str]] = []
    simulation = ""
    if request.method == "POST":
        # Neither saving, simulating nor showing another type's fields: a row is added.
        adding = not {"save", "simulate", "choose"} & set(request.POST)
        post = with_more_rows(request.POST, "grid") if adding else request.POST
        # « Afficher les champs de ce type » (no JavaScript): the same values, unchecked.
        choosing = "choose" in request.POST
        form = TariffVersionForm(initial=post.dict()) if choosing else TariffVersionForm(post)
        grid = BracketFormSet(post, prefix="grid")
        if not choosing and not adding and form.is_valid() and grid.is_valid():
            rows = [f.value() for f in grid.forms if not f.cleaned_data.get("DELETE")]
            rows = [r for r in rows if r is not None]
            version = form.version(rows)
            problems = _version_problems(version, rows, section)
            if not problems and "simulate" in request.POST:
                simulation = _simulate(code, name, version, section, form.cleaned_data)
            elif not problems:
                data = config_copy(request)
                target = data.setdefault("module_settings", {}).setdefault(
                    "billing", {"services": {}}
                )
                entry = target.setdefault("services", {}).setdefault(code, {"versions": []})
                entry["versions"] = sorted(
                    [*entry["versions"], version], key=lambda v: v["applies_from"]
                )
                result = apply_config(
                    request,
                    data,
                    form.cleaned_data["message"] or f"Tarif {code} : nouvelle version",
                )
                if result is None:
                    messages.success(
                        request,
                        f"Nouveau tarif « {name} » enregistré : il s'appliquera à partir du "
                        f"{form.cleaned_data['applies_from']:%d/%m/%Y}.",
                    )
                    return redirect("billing:config-tariffs")
                problems = [(p.key, p.message) for p in result]
    else:
        initial, rows = _version_initial(versions)
        form = TariffVersionForm(initial=initial)
        grid = BracketFormSet(prefix="grid", initial=rows)
    return render_config_form(
        request,
        "billing/config_tariff_version.html",
        {
            "form": form,
            "grid": grid,
            "code": code,
            "name": name,
            "simulation": simulation,
            "versions": sorted(versions, key=lambda v: v["applies_from"]),
        },
        problems,
        [form, *grid.forms] if "save" in request.POST or "simulate" in request.POST else (),
    )


def _version_problems(version: dict, rows: list[dict], section: dict) -> list[tuple[str, str]]:
    """What billing's parser says of the new version alone (French), before saving."""
    if version["kind"] == "grid":
        if not rows:
            return [("grid", "Une grille demande au moins une tranche.")]
        if any(r.get("price") is None for r in rows):
            return [("grid", "Chaque tranche demande un prix.")]
    try:
        parse_version(version, section.get("rules") or {})
    except (PricingError, ValueError) as exc:
        return [("", str(exc))]
    return []


def _simulate(code, name, version, section, data) -> str:
    qf = data.get("simulate_qf")
    try:
        tariff = ServiceTariff(
            service_code=code,
            label=name,
            versions=(parse_version(version, section.get("rules") or {}),),
        )
        line = price_session(tariff, day=data["applies_from"], qf=qf)
    except PricingError as exc:
        return str(exc)
    who = f"un quotient familial de {qf} €" if qf is not None else "un QF non communiqué"
    return f"Pour {who}, le {data['applies_from']:%d/%m/%Y} : {line.explanation}."


@access(TOWN_ADMIN, methods=POST)
@require_POST
@town_admin_required
def tariff_delete(request, code, day):
    """Withdraw a version that does not apply yet (one already applied cannot go:
    billing's retroactivity check refuses it)."""
    _billing_section(request)  # 404 without billing
    _service_name(request, code)
    data = config_copy(request)
    entry = (data.get("module_settings") or {}).get("billing", {}).get("services", {}).get(code)
    if entry is None or not any(v["applies_from"] == day for v in entry["versions"]):
        raise Http404("Version inconnue.")
    if day <= timezone.localdate().isoformat():
        messages.error(
            request,
            f"La version du {day} a déjà servi : elle ne peut pas être retirée "
            "(ajoutez plutôt une nouvelle version).",
        )
        return redirect("billing:config-tariffs")
    entry["versions"] = [v for v in entry["versions"] if v["applies_from"] != day]
    if not entry["versions"]:
        del data["module_settings"]["billing"]["services"][code]
    result = apply_config(request, data, f"Tarif {code} : version du {day} retirée")
    if result is None:
        messages.success(request, f"La version du {day} est retirée.")
    else:
        for p in result:
            messages.error(request, p.message)
    return redirect("billing:config-tariffs")


# --- régies and SEPA direct debit ---------------------------------------------------


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def regies(request):
    """Billing's régies (one invoice per payer and régie) and the SEPA creditor."""
    if not town_config.has_module(request.commune, "billing"):
        raise Http404("La facturation n'est pas activée dans cette commune.")
    config = town_config.editable(request.commune)
    current = _section(config)
    choices = [(s["code"], s["name"]) for s in config.get("services", [])]
    what = request.POST.get("what") if request.method == "POST" else None
    formset = RegieFormSet(
        request.POST if what == "regies" else None,
        initial=current.get("regies") or [],
        prefix="regies",
        service_choices=choices,
    )
    debit = DirectDebitForm(
        request.POST if what == "prelevement" else None,
        initial=DirectDebitForm.initial_for(current),
    )
    helios = HeliosForm(
        request.POST if what == "helios" else None, initial=HeliosForm.initial_for(current)
    )
    problems: list[tuple[str, str]] = []
    bound = {"regies": formset, "prelevement": debit, "helios": helios}.get(what)
    if bound is not None and bound.is_valid():
        data = config_copy(request)
        target = data.setdefault("module_settings", {}).setdefault("billing", {})
        if what == "regies":
            chosen = formset.regies()
            if chosen:
                target["regies"] = chosen
            else:
                target.pop("regies", None)  # default: one régie per module
        elif what == "helios":
            helios.apply_to(target)
        else:
            debit.apply_to(target)
        default = {
            "regies": "Régies de facturation",
            "prelevement": "Prélèvement SEPA",
            "helios": "Identifiants Hélios",
        }[what]
        message = request.POST.get("message", "").strip()[:200] or default
        result = apply_config(request, data, message)
        if result is None:
            messages.success(request, f"{default} : enregistré.")
            return redirect("billing:config-regies")
        for p in result:
            name = p.key.rsplit(".", 1)[-1]
            if what == "prelevement" and name in debit.fields:
                debit.add_error(name, p.message)
            elif what == "helios" and name in helios.fields:
                helios.add_error(name, p.message[:1].upper() + p.message[1:])
            else:
                problems.append((p.key, p.message))
        if not problems:
            problems.append(("", FIX))
    elif bound is not None:
        problems.append(("", FIX))
    return render_config_form(
        request,
        "billing/config_billing.html",
        {"regies": formset, "debit": debit, "helios": helios},
        problems,
    )
