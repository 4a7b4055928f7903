"""The town admin brings the town's families from its previous portal
(/<slug>/gestion/configuration/reprise/, issue 22): upload the files, read the
dry run's report, import, then print the activation-key letters.

The files go through the upload checker (documents.uploads.check_table_upload);
between the dry run and the import they wait in IMPORT_STAGING_DIR/<schema>/<id>/
(on the media volume, never served), and are deleted once imported or after a
day. The import itself is families.imports.run_import, as for the command.
"""

from __future__ import annotations

import io
import zipfile

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_tenants.utils import tenant_context

from backoffice.views import town_admin_required
from core.access import GET, GET_POST, POST, TOWN_ADMIN, access
from documents.editions import EditionUnavailable
from documents.key_letters import issue_key_letters
from documents.uploads import check_table_upload
from families.import_rules import PRESET_LABELS, template_csv
from families.imports import (
    drop_stage,
    entities,
    imported_households,
    run_import,
    stage_files,
    staged_files,
)
from families.models import ImportRun
from families.tasks import import_families_task

_STAGE_ID = "import_stage"


class ImportForm(forms.Form):
    preset = forms.ChoiceField(
        label="Format des fichiers",
        choices=list(PRESET_LABELS.items()),
        initial="guichet",
        help_text="Le format documenté, ou l'export de votre ancien logiciel.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, entity in entities().items():
            self.fields[code] = forms.FileField(
                label=entity.label[:1].upper() + entity.label[1:],
                required=False,
                help_text="CSV ou XLSX",
                widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
            )


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


def _page(request, form, report=None, *, status=200):
    run = ImportRun.objects.first()
    return render(
        request,
        "backoffice/config_import.html",
        {
            "form": form,
            "report": report,
            "run": run,
            "running": run is not None and run.status == ImportRun.Status.RUNNING,
            "stage_id": request.session.get(_STAGE_ID, "") if report else "",
            "file_fields": [form[c] for c in entities()],
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
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST":
        return _page(request, form)
    if not form.is_valid():
        return _page(request, form, status=422)
    files: dict[str, tuple[str, bytes]] = {}
    for code in entities():
        upload = form.cleaned_data.get(code)
        if not upload:
            continue
        try:
            files[code] = (upload.name[:120], check_table_upload(upload))
        except ValidationError as exc:
            form.add_error(code, exc.messages[0])
    if not files and not form.errors:
        form.add_error(None, "Choisissez au moins un fichier à vérifier.")
    if form.errors:
        return _page(request, form, status=422)
    preset = form.cleaned_data["preset"]
    drop_stage(request.session.pop(_STAGE_ID, ""))
    request.session[_STAGE_ID] = stage_files(files, preset)
    streams = {code: (name, io.BytesIO(data)) for code, (name, data) in files.items()}
    report = run_import(streams, preset=preset, apply=False)
    return _page(request, ImportForm(initial={"preset": preset}), report)


@access(TOWN_ADMIN, methods=POST)
@never_cache
@town_admin_required
@require_POST
def import_families_apply(request):
    """The real run of the files checked by the last dry run, as a Celery task
    (progress on this page); the files are deleted once it has run."""
    stage_id = request.POST.get("stage", "")
    preset, files = staged_files(stage_id if stage_id == request.session.get(_STAGE_ID) else "")
    if files is None:
        messages.error(request, "Ces fichiers ne sont plus disponibles : vérifiez-les à nouveau.")
        return redirect("backoffice:config-import")
    request.session.pop(_STAGE_ID, None)
    run = ImportRun.objects.create(preset=preset, requested_by=request.user.get_full_name()[:160])
    town = connection.tenant  # the task runs in the schema it is sent from
    transaction.on_commit(lambda: _send(town, run.pk, stage_id))
    messages.success(request, "Import lancé : son avancement s'affiche ci-dessous.")
    return redirect("backoffice:config-import")


def _send(town, run_id: int, stage_id: str) -> None:
    with tenant_context(town):
        import_families_task.delay(run_id, stage_id)


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
