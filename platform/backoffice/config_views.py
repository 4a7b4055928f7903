"""Structured configuration forms of the back-office (town admins): contacts,
online payment, tariffs (module_settings.billing) and the town's e-mail texts.

Each form edits a copy of the town's configuration and hands it to
tenants.services.apply_town_config (validation + ConfigVersion): nothing is
saved while a problem remains, and the problems (French, keyed like the YAML)
are shown next to the fields they concern.
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

from backoffice.forms import (
    BillingRulesForm,
    BracketFormSet,
    ContactForm,
    ContactFormSet,
    EmailTemplateForm,
    MessageForm,
    PaymentForm,
    TariffServiceForm,
    TariffVersionForm,
)
from backoffice.views import _apply, _config, town_admin_required
from core import mail_templates
from core.access import GET_POST, POST, TOWN_ADMIN, access
from tenants.service_rules import problems_by_prefix

FIX = "Corrigez les champs signalés ci-dessous."


def _render(request, template, context, problems, saved_forms=()):
    """422 when a save was refused: by the configuration's checks (`problems`)
    or by the forms themselves (`saved_forms`: the forms of a save attempt)."""
    if not problems and any(f.errors for f in saved_forms):
        problems = [("", FIX)]
    return render(
        request, template, {**context, "problems": problems}, status=422 if problems else 200
    )


def _attach(form, rest: str, message: str) -> bool:
    """Put a problem on the field it names ("email", "options.site"...); False
    when no field of `form` matches."""
    name = rest.rsplit(".", 1)[-1]
    for candidate in (name, f"option_{name}", f"secret_{name}"):
        if rest and candidate in form.fields:
            form.add_error(candidate, message)
            return True
    return False


def _with_more_rows(post, prefix: str):
    """The POST again with one more (blank) row in formset `prefix`: the "add a
    row" button, which works without JavaScript."""
    post = post.copy()
    key = f"{prefix}-TOTAL_FORMS"
    try:
        total = int(post.get(key) or 0)
    except ValueError:  # tampered management data: the formset reports it
        return post
    post[key] = str(min(total, 1000) + 1)
    return post


# --- contacts -----------------------------------------------------------------------


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def contacts(request):
    config = request.commune.config
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        # Any other button (or htmx) adds a row: only "save" saves.
        saving = "save" in request.POST
        post = request.POST if saving else _with_more_rows(request.POST, "contacts")
        main = ContactForm(post, prefix="contact")
        rows = ContactFormSet(post, prefix="contacts")
        meta = MessageForm(post)
        if saving and all(f.is_valid() for f in (main, rows, meta)):
            kept = [f for f in rows.forms if not f.cleaned_data.get("DELETE") and f.value()]
            data = _config(request)
            data["contact"] = main.value()
            if kept:
                data["contacts"] = [f.value() for f in kept]
            else:
                data.pop("contacts", None)
            result = _apply(request, data, meta.cleaned_data["message"] or "Contacts")
            if result is None:
                messages.success(request, "Contacts enregistrés.")
                return redirect("backoffice:config")
            for p in result:
                rest = next((rest for rest, _ in problems_by_prefix([p], "contact")), None)
                if rest is not None and _attach(main, rest, p.message):
                    continue
                if p.key.startswith("contacts["):
                    index = int(p.key[len("contacts[") : p.key.index("]")])
                    if index < len(kept) and _attach(
                        kept[index], p.key.split(".", 1)[-1], p.message
                    ):
                        continue
                problems.append((p.key, p.message))
            if not problems:
                problems.append(("", FIX))
    else:
        main = ContactForm(prefix="contact", initial=config.get("contact", {}))
        rows = ContactFormSet(prefix="contacts", initial=config.get("contacts", []))
        meta = MessageForm()
    return _render(
        request,
        "backoffice/config_contacts.html",
        {"main": main, "rows": rows, "meta": meta},
        problems,
        [main, *rows.forms, meta] if request.method == "POST" and saving else (),
    )


# --- payment ------------------------------------------------------------------------


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def payment(request):
    from modules.billing.payments.providers import PROVIDERS

    current = request.commune.config.get("payment") or {"provider": "none"}
    wanted = request.POST.get("provider") or request.GET.get("provider") or current["provider"]
    if wanted not in PROVIDERS:
        wanted = current["provider"] if current["provider"] in PROVIDERS else "none"
    initial = PaymentForm.initial_for(current if wanted == current["provider"] else {})
    initial["provider"] = wanted
    problems: list[tuple[str, str]] = []
    if request.method == "POST" and "save" in request.POST:  # else: another provider chosen
        form = PaymentForm(request.POST, provider=wanted)
        if form.is_valid():
            data = _config(request)
            data["payment"] = form.value(current)
            result = _apply(request, data, form.cleaned_data["message"] or "Paiement en ligne")
            if result is None:
                messages.success(request, "Paiement en ligne enregistré.")
                return redirect("backoffice:config")
            for key, message in problems_by_prefix(result, "payment"):
                if not _attach(form, key, message):
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
    return _render(
        request,
        "backoffice/config_payment.html",
        {"form": form, "defined": defined},
        problems,
        [form] if "save" in request.POST else (),
    )


# --- tariffs ------------------------------------------------------------------------


def _billing_section(request) -> dict:
    if "billing" not in request.commune.config.get("modules", []):
        raise Http404("Le module « Facturation et paiement » n'est pas activé.")
    return (request.commune.config.get("module_settings") or {}).get("billing") or {"services": {}}


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
        data = _config(request)
        target = data.setdefault("module_settings", {}).setdefault("billing", {"services": {}})
        form.apply_to(target, today=today)
        result = _apply(request, data, form.cleaned_data["message"] or "Règles de facturation")
        if result is None:
            messages.success(request, "Règles de facturation enregistrées.")
            return redirect("backoffice:config-tariffs")
        for p in result:
            if not _attach(form, p.key, p.message):
                problems.append((p.key, p.message))
        if not problems:
            problems.append(("", FIX))
    services = []
    for service in request.commune.config.get("services", []):
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
    return _render(
        request,
        "backoffice/config_tariffs.html",
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
        data = _config(request)
        form.apply_to(data["module_settings"]["billing"]["services"][code])
        result = _apply(request, data, form.cleaned_data["message"] or f"Tarif {code} : réglages")
        if result is None:
            messages.success(request, f"« {name} » : réglages de facturation enregistrés.")
            return redirect("backoffice:config-tariffs")
        for p in result:
            messages.error(request, p.message)
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"« {name} » — {label} : {error}" if label else error)
    return redirect("backoffice:config-tariffs")


def _service_name(request, code) -> str:
    for s in request.commune.config.get("services", []):
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
        post = _with_more_rows(request.POST, "grid") if adding else request.POST
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
                data = _config(request)
                target = data.setdefault("module_settings", {}).setdefault(
                    "billing", {"services": {}}
                )
                entry = target.setdefault("services", {}).setdefault(code, {"versions": []})
                entry["versions"] = sorted(
                    [*entry["versions"], version], key=lambda v: v["applies_from"]
                )
                result = _apply(
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
                    return redirect("backoffice:config-tariffs")
                problems = [(p.key, p.message) for p in result]
    else:
        initial, rows = _version_initial(versions)
        form = TariffVersionForm(initial=initial)
        grid = BracketFormSet(prefix="grid", initial=rows)
    return _render(
        request,
        "backoffice/config_tariff_version.html",
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
    from modules.billing.pricing import PricingError
    from modules.billing.tariffs import _version

    if version["kind"] == "grid":
        if not rows:
            return [("grid", "Une grille demande au moins une tranche.")]
        if any(r.get("price") is None for r in rows):
            return [("grid", "Chaque tranche demande un prix.")]
    try:
        _version(version, section.get("rules") or {})
    except (PricingError, ValueError) as exc:
        return [("", str(exc))]
    return []


def _simulate(code, name, version, section, data) -> str:
    from modules.billing.pricing import PricingError, ServiceTariff, price_session
    from modules.billing.tariffs import _version

    qf = data.get("simulate_qf")
    try:
        tariff = ServiceTariff(
            service_code=code, label=name, versions=(_version(version, section.get("rules") or {}),)
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
    data = _config(request)
    entry = (data.get("module_settings") or {}).get("billing", {}).get("services", {}).get(code)
    if entry is None or not any(v["applies_from"] == day for v in entry["versions"]):
        raise Http404("Version inconnue.")
    if day <= timezone.localdate().isoformat():
        messages.error(
            request,
            f"La version du {day} a déjà servi : elle ne peut pas être retirée "
            "(ajoutez plutôt une nouvelle version).",
        )
        return redirect("backoffice:config-tariffs")
    entry["versions"] = [v for v in entry["versions"] if v["applies_from"] != day]
    if not entry["versions"]:
        del data["module_settings"]["billing"]["services"][code]
    result = _apply(request, data, f"Tarif {code} : version du {day} retirée")
    if result is None:
        messages.success(request, f"La version du {day} est retirée.")
    else:
        for p in result:
            messages.error(request, p.message)
    return redirect("backoffice:config-tariffs")


# --- e-mail texts ---------------------------------------------------------------------


def _template(name):
    entry = mail_templates.registry().get(name)
    if entry is None:
        raise Http404("Modèle de message inconnu.")
    return entry


@access(TOWN_ADMIN)
@never_cache
@town_admin_required
def emails(request):
    overrides = request.commune.config.get("email_templates") or {}
    rows = [(entry, overrides.get(name)) for name, entry in mail_templates.registry().items()]
    return render(request, "backoffice/config_emails.html", {"rows": rows})


def _preview(request, entry, subject: str, body: str) -> dict:
    """The text rendered on the template's sample data (or its problems)."""
    text = {"subject": subject, "body": body} if subject else {"body": body}
    problems = mail_templates.check_override(entry.name, text)
    if problems:
        return {"preview_problems": [message for _, message in problems]}
    context = {"commune": request.commune, **entry.sample}
    try:
        return {
            "preview_subject": mail_templates.render_subject(subject, context)
            if subject
            else entry.subject,
            "preview_body": mail_templates.render(body, context),
        }
    except Exception as exc:  # shown to the admin, never a 500
        return {"preview_problems": [f"erreur à la mise en forme : {exc}"]}


@access(TOWN_ADMIN, methods=GET_POST, name="email_template")
@never_cache
@town_admin_required
def email(request, name):
    entry = _template(name)
    override = (request.commune.config.get("email_templates") or {}).get(name) or {}
    default_body = mail_templates.editable_default(entry.default_source())
    problems: list[tuple[str, str]] = []
    preview: dict = {}
    if request.method == "POST":
        form = EmailTemplateForm(request.POST)
        if form.is_valid():
            subject, body = form.cleaned_data["subject"].strip(), form.cleaned_data["body"]
            body = body.replace("\r\n", "\n")
            preview = _preview(request, entry, subject, body)
            if "save" in request.POST:
                data = _config(request)
                texts = data.setdefault("email_templates", {})
                new = {"subject": subject} if subject else {}
                if body.strip() != default_body.strip():
                    new["body"] = body
                if new:
                    texts[name] = new
                else:
                    texts.pop(name, None)
                if not texts:
                    data.pop("email_templates")
                result = _apply(request, data, form.cleaned_data["message"] or f"Message {name}")
                if result is None:
                    messages.success(request, f"Message « {entry.label} » enregistré.")
                    return redirect("backoffice:config-emails")
                for key, message in problems_by_prefix(result, f"email_templates.{name}"):
                    if not _attach(form, key, message):
                        problems.append((key, message))
                problems += [
                    (p.key, p.message)
                    for p in result
                    if not p.key.startswith(f"email_templates.{name}")
                ]
                if not problems:
                    problems.append(("", FIX))
    else:
        form = EmailTemplateForm(
            initial={
                "subject": override.get("subject", ""),
                "body": override.get("body", default_body),
            }
        )
        preview = _preview(request, entry, form.initial["subject"], form.initial["body"])
    return _render(
        request,
        "backoffice/config_email.html",
        {
            "form": form,
            "entry": entry,
            "override": override,
            "default_body": default_body,
            "variables": entry.all_variables.items(),
            **preview,
        },
        problems,
        [form] if "save" in request.POST else (),
    )


@access(TOWN_ADMIN, methods=GET_POST, name="email_template")
@never_cache
@town_admin_required
def email_preview(request, name):
    """The preview fragment (htmx, as the admin types)."""
    entry = _template(name)
    data = request.POST if request.method == "POST" else request.GET
    preview = _preview(
        request, entry, data.get("subject", "").strip(), data.get("body", "").replace("\r\n", "\n")
    )
    return render(request, "backoffice/_email_preview.html", preview)


@access(TOWN_ADMIN, methods=POST, name="email_template")
@require_POST
@town_admin_required
def email_revert(request, name):
    entry = _template(name)
    data = _config(request)
    texts = data.get("email_templates") or {}
    if name in texts:
        del texts[name]
        if not texts:
            data.pop("email_templates")
        result = _apply(request, data, f"Message {name} : texte par défaut")
        if result is not None:
            for p in result:
                messages.error(request, p.message)
            return redirect("backoffice:config-email", name=name)
    messages.success(request, f"« {entry.label} » : le texte par défaut est rétabli.")
    return redirect("backoffice:config-emails")
