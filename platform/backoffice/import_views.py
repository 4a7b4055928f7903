"""The town admin brings the town's families from its previous portal
(/<slug>/gestion/configuration/reprise/, issue 22): upload the files, read the
dry run's report, import, then print the activation-key letters.

The files go through the upload checker (core.uploads.check_table_upload);
between the dry run and the import they wait in IMPORT_STAGING_DIR/<schema>/<id>/
(on the media volume, never served), and are deleted once imported or after a
day. The import itself is families.imports.run_import, as for the command; the
form, dry run, staging and task start are shared with the operator console
(tenants.import_pages, templates family_import/*.html).
"""

from __future__ import annotations

import io
import zipfile

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from backoffice.views import town_admin_required
from core.access import GET, GET_POST, POST, TOWN_ADMIN, access
from documents.editions import EditionUnavailable
from documents.key_letters import issue_key_letters
from families.import_rules import template_csv
from families.imports import entities, imported_households
from tenants import import_pages

_STAGE_ID = "import_stage"


class LettersForm(forms.Form):
    delivery = forms.ChoiceField(
        label="Remise des clés",
        choices=[
            ("letter", "Toutes en lettres (un PDF à imprimer)"),
            ("email", "Par e-mail quand l'adresse est connue, lettres pour les autres"),
        ],
        initial="letter",
        widget=forms.RadioSelect,
    )


def _page(request, form, report=None, *, stage_id="", status=200):
    return render(
        request,
        "backoffice/config_import.html",
        {
            "form": form,
            "field_template": "backoffice/_field.html",
            "report": report,
            "stage_id": stage_id,
            "apply_url": reverse("backoffice:config-import-apply"),
            **import_pages.run_context(reverse("backoffice:config-import-progress")),
            "letters_form": LettersForm(),
            "imported": len(imported_households()),
        },
        status=status,
    )


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def import_families(request):
    """GET: the form. POST: the dry run (files checked, staged, report shown)."""
    form = import_pages.ImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST":
        return _page(request, form)
    files = form.checked_files()
    if files is None:
        return _page(request, form, status=422)
    preset = form.cleaned_data["preset"]
    stage_id, report = import_pages.dry_run(request.session, _STAGE_ID, files, preset)
    form = import_pages.ImportForm(initial={"preset": preset})
    return _page(request, form, report, stage_id=stage_id)


@access(TOWN_ADMIN, methods=POST)
@never_cache
@town_admin_required
@require_POST
def import_families_apply(request):
    """The real run of the files checked by the last dry run, as a Celery task
    (progress on this page); the files are deleted once it has run."""
    run = import_pages.start_run(
        request.session,
        _STAGE_ID,
        request.POST.get("stage", ""),
        requested_by=request.user.get_full_name(),
    )
    if run is None:
        messages.error(request, "Ces fichiers ne sont plus disponibles : vérifiez-les à nouveau.")
    else:
        messages.success(request, "Import lancé : son avancement s'affiche ci-dessous.")
    return redirect("backoffice:config-import")


@access(TOWN_ADMIN, methods=GET)
@never_cache
@town_admin_required
def import_progress(request):
    """The last run's block alone (htmx polls it every 2 s while it runs)."""
    context = import_pages.run_context(reverse("backoffice:config-import-progress"))
    return render(request, "family_import/_run.html", context)


@access(TOWN_ADMIN, methods=POST)
@never_cache
@town_admin_required
@require_POST
def import_letters(request):
    """Activation keys for the imported households' representatives without an
    account: one PDF of letters, or e-mails where an address is known."""
    by_email = request.POST.get("delivery") == "email"
    try:
        batch = issue_key_letters(
            household_ids=imported_households(), issued_by=request.user, by_email=by_email
        )
    except EditionUnavailable:
        return render(request, "documents/edition_unavailable.html", status=503)
    if batch.pdf is None:
        if batch.emailed:
            messages.success(request, f"{batch.emailed} e-mail(s) envoyé(s) avec une clé.")
        else:
            messages.info(request, "Tous les responsables importés ont déjà un espace.")
        return redirect("backoffice:config-import")
    response = HttpResponse(batch.pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="lettres-cles.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@access(TOWN_ADMIN, methods=GET)
@town_admin_required
def import_templates(request):
    """A ZIP of the documented format: one blank CSV per file, with its columns."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for code, entity in entities().items():
            archive.writestr(f"{code}.csv", template_csv(entity))
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="modeles-import.zip"'
    return response
