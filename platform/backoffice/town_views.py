"""Town admins edit the town's general settings and its data-protection notices
with forms (/<slug>/gestion/configuration/commune/ and .../donnees-personnelles/).
Like every configuration page: validated, all-or-nothing, versioned."""

from __future__ import annotations

import re

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from backoffice.config_views import FIX, _render
from backoffice.town_forms import DataProtectionForm, TownSettingsForm
from backoffice.views import _apply, _config, town_admin_required
from core.access import GET_POST, TOWN_ADMIN, access

_INDEX = re.compile(r"\[\d+\]")


def _field_for(key: str) -> str:
    """The form field a configuration problem's key names: `family_changes.address`
    -> change_address, `data_protection.dpo.email` -> dpo_email, `aliases[1]` -> aliases."""
    key = _INDEX.sub("", key)
    key = key.removeprefix("data_protection.").removeprefix("accounts.")
    if key.startswith("family_changes."):
        return "change_" + key.split(".", 1)[1]
    return key.replace(".", "_")


def _edit(request, form_class, template, message, success):
    form = form_class(request.POST or None, initial=form_class.initial_for(request.commune.config))
    problems: list[tuple[str, str]] = []
    if request.method == "POST" and form.is_valid():
        data = _config(request)
        form.apply_to(data)
        result = _apply(request, data, form.cleaned_data["message"] or message)
        if result is None:
            messages.success(request, success)
            return redirect("backoffice:config")
        for p in result:
            name = _field_for(p.key)
            if name in form.fields:
                form.add_error(name, p.message)
            else:
                problems.append((p.key, p.message))
        if not problems:
            problems.append(("", FIX))
    return _render(
        request,
        template,
        {"form": form},
        problems,
        [form] if request.method == "POST" else (),
    )


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def town_settings(request):
    return _edit(
        request,
        TownSettingsForm,
        "backoffice/config_town.html",
        "Réglages de la commune",
        "Réglages de la commune enregistrés.",
    )


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def data_protection(request):
    return _edit(
        request,
        DataProtectionForm,
        "backoffice/config_data_protection.html",
        "Mentions légales et données personnelles",
        "Mentions légales et données personnelles enregistrées : les pages publiques sont à jour.",
    )


def _billing(config: dict) -> dict:
    return (config.get("module_settings") or {}).get("billing") or {}


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def billing_settings(request):
    """Billing's régies (one invoice per payer and régie) and the SEPA creditor."""
    from django.http import Http404

    from backoffice.billing_forms import DirectDebitForm, RegieFormSet

    config = request.commune.config
    if "billing" not in config.get("modules", []):
        raise Http404("La facturation n'est pas activée dans cette commune.")
    current = _billing(config)
    choices = [(s["code"], s["name"]) for s in config.get("services", [])]
    what = request.POST.get("what") if request.method == "POST" else None
    regies = RegieFormSet(
        request.POST if what == "regies" else None,
        initial=current.get("regies") or [],
        prefix="regies",
        service_choices=choices,
    )
    debit = DirectDebitForm(
        request.POST if what == "prelevement" else None,
        initial=DirectDebitForm.initial_for(current),
    )
    problems: list[tuple[str, str]] = []
    bound = regies if what == "regies" else debit if what == "prelevement" else None
    if bound is not None and bound.is_valid():
        data = _config(request)
        target = data.setdefault("module_settings", {}).setdefault("billing", {})
        if what == "regies":
            chosen = regies.regies()
            if chosen:
                target["regies"] = chosen
            else:
                target.pop("regies", None)  # default: one régie per module
        else:
            debit.apply_to(target)
        default = "Régies de facturation" if what == "regies" else "Prélèvement SEPA"
        message = request.POST.get("message", "").strip()[:200] or default
        result = _apply(request, data, message)
        if result is None:
            messages.success(request, f"{default} : enregistré.")
            return redirect("backoffice:config-billing")
        for p in result:
            name = p.key.rsplit(".", 1)[-1]
            if what == "prelevement" and name in debit.fields:
                debit.add_error(name, p.message)
            else:
                problems.append((p.key, p.message))
        if not problems:
            problems.append(("", FIX))
    elif bound is not None:
        problems.append(("", FIX))
    return _render(
        request,
        "backoffice/config_billing.html",
        {"regies": regies, "debit": debit},
        problems,
    )
