"""The pages that import a town's families from its previous portal (issue 22),
shared by the town admin's back-office page (backoffice.import_views,
/<slug>/gestion/configuration/reprise/) and the operator console
(tenants.admin, /admin/tenants/commune/<id>/reprise/): the same form, upload
checks, dry run, staged files, Celery task and templates (family_import/*.html).

Every function runs in the town's schema: the back-office is there already, the
console enters it (`tenant_context`). The service is families.imports.
"""

from __future__ import annotations

import io

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from core.uploads import check_table_upload
from families.import_rules import PRESET_LABELS
from families.imports import (
    ImportReport,
    drop_stage,
    entities,
    run_import,
    stage_files,
    staged_files,
)
from families.models import ImportRun
from families.tasks import import_families_task


class ImportForm(forms.Form):
    """The format and one optional file per entity the town may import."""

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

    def file_fields(self):
        return [self[code] for code in entities()]

    def checked_files(self) -> dict[str, tuple[str, bytes]] | None:
        """Each uploaded file through the upload checker; None (with the form's
        French errors) when one is refused or none was given."""
        if not self.is_valid():
            return None
        files: dict[str, tuple[str, bytes]] = {}
        for code in entities():
            upload = self.cleaned_data.get(code)
            if not upload:
                continue
            try:
                files[code] = (upload.name[:120], check_table_upload(upload))
            except ValidationError as exc:
                self.add_error(code, exc.messages[0])
        if not files and not self.errors:
            self.add_error(None, "Choisissez au moins un fichier à vérifier.")
        return None if self.errors else files


def dry_run(
    session, key: str, files: dict[str, tuple[str, bytes]], preset: str
) -> tuple[str, ImportReport]:
    """Stage the checked files (the previous stage of this session dropped) and
    run the dry run: (stage id, report). Nothing is written to the town."""
    drop_stage(session.pop(key, ""))
    stage_id = stage_files(files, preset)
    session[key] = stage_id
    streams = {code: (name, io.BytesIO(data)) for code, (name, data) in files.items()}
    return stage_id, run_import(streams, preset=preset, apply=False)


def start_run(session, key: str, stage_id: str, *, requested_by: str) -> ImportRun | None:
    """The real run of the files this session checked last, as a Celery task
    sent once the ImportRun is committed; None when the files are gone."""
    preset, files = staged_files(stage_id if stage_id == session.get(key) else "")
    if files is None:
        return None
    session.pop(key, None)
    run = ImportRun.objects.create(preset=preset, requested_by=requested_by[:160])
    town = connection.tenant  # the task runs in the schema it is sent from
    transaction.on_commit(lambda: _send(town, run.pk, stage_id))
    return run


def _send(town, run_id: int, stage_id: str) -> None:
    with tenant_context(town):
        import_families_task.delay(run_id, stage_id)


def run_context(poll_url: str) -> dict:
    """The last run of the town, for family_import/_run.html (polled with htmx
    while it runs)."""
    run = ImportRun.objects.first()
    return {
        "run": run,
        "running": run is not None and run.status == ImportRun.Status.RUNNING,
        "poll_url": poll_url,
    }
