"""Town admins edit the town's general settings and its data-protection notices
with forms (/<slug>/gestion/configuration/commune/ and .../donnees-personnelles/).
Like every configuration page: validated, all-or-nothing, versioned."""

from __future__ import annotations

import re

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from backoffice.config_views import FIX, render_config_form
from backoffice.town_forms import DataProtectionForm, TownSettingsForm
from backoffice.views import apply_config, config_copy, town_admin_required
from core import town_config
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
    form = form_class(
        request.POST or None, initial=form_class.initial_for(town_config.editable(request.commune))
    )
    problems: list[tuple[str, str]] = []
    if request.method == "POST" and form.is_valid():
        data = config_copy(request)
        form.apply_to(data)
        result = apply_config(request, data, form.cleaned_data["message"] or message)
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
    return render_config_form(
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
