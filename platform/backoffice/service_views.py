"""Town admins edit a service's places and options, add a service, retire one
(/<slug>/gestion/configuration/services/...). Like every configuration page,
changes go through tenants.services.apply_town_config: validated, all-or-nothing,
versioned (who, when)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from backoffice.service_forms import NewServiceForm, ServiceOptionsForm, SiteFormSet
from backoffice.views import _service_index, apply_config, config_copy, town_admin_required
from core import town_config
from core.access import GET_POST, POST, TOWN_ADMIN, access
from core.modules import forget_services, service_kinds
from tenants.service_rules import problems_by_prefix


def _sites_initial(service: dict) -> list[dict]:
    return [
        {k: s.get(k, "") for k in ("code", "name", "address", "capacity")}
        for s in (service.get("options") or {}).get("sites") or []
    ]


def _field_errors(form, formset, problems, index):
    """Put each validation problem next to its field when one matches."""
    for key, message in problems:
        tail = key.split(f"services[{index}].", 1)[-1]
        if tail.startswith("options.sites["):
            number = tail[len("options.sites[") :].split("]", 1)[0]
            name = tail.rsplit(".", 1)[-1]
            if number.isdigit() and int(number) < len(formset.forms):
                site_form = formset.forms[int(number)]
                if name in site_form.fields:
                    site_form.add_error(name, message)
                    continue
        name = tail.rsplit(".", 1)[-1]
        aliases = {"mode": "waiting_mode"}
        name = aliases.get(name, name)
        if name in form.fields:
            form.add_error(name, message)


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def config_service_options(request, code):
    index = _service_index(request, code)
    service = town_config.editable(request.commune)["services"][index]
    form = ServiceOptionsForm(request.POST or None, initial=ServiceOptionsForm.initial_for(service))
    sites = SiteFormSet(request.POST or None, initial=_sites_initial(service), prefix="lieux")
    problems = []
    if request.method == "POST":
        if form.is_valid() and sites.is_valid():
            data = config_copy(request)
            target = data["services"][index]
            form.apply_to(target)
            chosen = sites.sites()
            if chosen:
                target["options"]["sites"] = chosen
            else:
                target["options"].pop("sites", None)
            result = apply_config(
                request, data, form.cleaned_data["message"] or f"Lieux et options : {code}"
            )
            if result is None:
                messages.success(
                    request,
                    f"« {service['name']} » : lieux et options enregistrés. Ouvrez les journées "
                    "des nouveaux lieux dans le catalogue du service.",
                )
                return redirect("backoffice:config")
            problems = problems_by_prefix(result, f"services[{index}]") or [
                (p.key, p.message) for p in result
            ]
            _field_errors(form, sites, problems, index)
        else:
            problems = [("", "Le formulaire contient des erreurs : corrigez les champs signalés.")]
    return render(
        request,
        "backoffice/config_service_options.html",
        {"form": form, "sites": sites, "service": service, "problems": problems},
        status=422 if problems else 200,
    )


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def config_service_new(request):
    enabled = set(town_config.enabled_modules(request.commune))
    kinds = [
        (code, f"{kind.label} ({module.module_label})")
        for code, (module, kind) in sorted(service_kinds().items())
        if module.module_code in enabled
    ]
    existing = [s["code"] for s in town_config.editable(request.commune).get("services", [])]
    form = NewServiceForm(request.POST or None, kinds=kinds, existing=existing)
    problems = []
    if request.method == "POST":
        if form.is_valid():
            data = config_copy(request)
            data["services"].append(form.service())
            index = len(data["services"]) - 1
            result = apply_config(request, data, form.cleaned_data["message"] or "Nouveau service")
            if result is None:
                messages.success(
                    request,
                    f"« {form.cleaned_data['name']} » créé. Ouvrez ses journées dans le catalogue "
                    "du service pour que les familles puissent réserver.",
                )
                return redirect("backoffice:config-service-options", code=form.cleaned_data["code"])
            problems = problems_by_prefix(result, f"services[{index}]") or [
                (p.key, p.message) for p in result
            ]
        else:
            problems = [("", "Le formulaire contient des erreurs : corrigez les champs signalés.")]
    return render(
        request,
        "backoffice/config_service_new.html",
        {"form": form, "problems": problems, "has_kinds": bool(kinds)},
        status=422 if problems else 200,
    )


@access(TOWN_ADMIN, methods=POST)
@require_POST
@town_admin_required
def config_service_retire(request, code):
    """Take a service out of the configuration. Its rows are switched off, never
    deleted (bookings and invoices point at them); the history keeps it for a restore."""
    index = _service_index(request, code)
    data = config_copy(request)
    removed = data["services"].pop(index)
    forget_services(data, {code})  # e.g. billing's tariff of the service
    result = apply_config(request, data, f"Service retiré : {code}")
    if result is None:
        messages.success(
            request,
            f"« {removed['name']} » retiré : les familles ne le voient plus. Ses réservations "
            "et factures passées sont conservées ; l'historique permet de le rétablir.",
        )
    else:
        for p in result:
            messages.error(request, str(p))
    return redirect("backoffice:config")
