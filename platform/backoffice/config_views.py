"""Structured configuration forms of the back-office (town admins): contacts
and the town's e-mail texts (a module's own pages, e.g. billing's payment and
tariffs, live in the module: core.contributions' `backoffice_config_pages`).

Each form edits a copy of the town's configuration and hands it to
tenants.services.apply_town_config (validation + ConfigVersion): nothing is
saved while a problem remains, and the problems (French, keyed like the YAML)
are shown next to the fields they concern.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from backoffice.forms import ContactForm, ContactFormSet, EmailTemplateForm, MessageForm
from backoffice.views import apply_config, config_copy, town_admin_required
from core import mail_templates, town_config
from core.access import GET_POST, POST, TOWN_ADMIN, access
from tenants.service_rules import problems_by_prefix

FIX = "Corrigez les champs signalés ci-dessous."


def render_config_form(request, template, context, problems, saved_forms=()):
    """422 when a save was refused: by the configuration's checks (`problems`)
    or by the forms themselves (`saved_forms`: the forms of a save attempt)."""
    if not problems and any(f.errors for f in saved_forms):
        problems = [("", FIX)]
    return render(
        request, template, {**context, "problems": problems}, status=422 if problems else 200
    )


def attach_problem(form, rest: str, message: str) -> bool:
    """Put a problem on the field it names ("email", "options.site"...); False
    when no field of `form` matches."""
    name = rest.rsplit(".", 1)[-1]
    for candidate in (name, f"option_{name}", f"secret_{name}"):
        if rest and candidate in form.fields:
            form.add_error(candidate, message)
            return True
    return False


def with_more_rows(post, prefix: str):
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
    config = town_config.editable(request.commune)
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        # Any other button (or htmx) adds a row: only "save" saves.
        saving = "save" in request.POST
        post = request.POST if saving else with_more_rows(request.POST, "contacts")
        main = ContactForm(post, prefix="contact")
        rows = ContactFormSet(post, prefix="contacts")
        meta = MessageForm(post)
        if saving and all(f.is_valid() for f in (main, rows, meta)):
            kept = [f for f in rows.forms if not f.cleaned_data.get("DELETE") and f.value()]
            data = config_copy(request)
            data["contact"] = main.value()
            if kept:
                data["contacts"] = [f.value() for f in kept]
            else:
                data.pop("contacts", None)
            result = apply_config(request, data, meta.cleaned_data["message"] or "Contacts")
            if result is None:
                messages.success(request, "Contacts enregistrés.")
                return redirect("backoffice:config")
            for p in result:
                rest = next((rest for rest, _ in problems_by_prefix([p], "contact")), None)
                if rest is not None and attach_problem(main, rest, p.message):
                    continue
                if p.key.startswith("contacts["):
                    index = int(p.key[len("contacts[") : p.key.index("]")])
                    if index < len(kept) and attach_problem(
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
    return render_config_form(
        request,
        "backoffice/config_contacts.html",
        {"main": main, "rows": rows, "meta": meta},
        problems,
        [main, *rows.forms, meta] if request.method == "POST" and saving else (),
    )


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
    overrides = town_config.editable(request.commune).get("email_templates") or {}
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
    override = (town_config.editable(request.commune).get("email_templates") or {}).get(name) or {}
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
                data = config_copy(request)
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
                result = apply_config(
                    request, data, form.cleaned_data["message"] or f"Message {name}"
                )
                if result is None:
                    messages.success(request, f"Message « {entry.label} » enregistré.")
                    return redirect("backoffice:config-emails")
                for key, message in problems_by_prefix(result, f"email_templates.{name}"):
                    if not attach_problem(form, key, message):
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
    return render_config_form(
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
    data = config_copy(request)
    texts = data.get("email_templates") or {}
    if name in texts:
        del texts[name]
        if not texts:
            data.pop("email_templates")
        result = apply_config(request, data, f"Message {name} : texte par défaut")
        if result is not None:
            for p in result:
                messages.error(request, p.message)
            return redirect("backoffice:config-email", name=name)
    messages.success(request, f"« {entry.label} » : le texte par défaut est rétabli.")
    return redirect("backoffice:config-emails")
