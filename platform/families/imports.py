"""Importing a town's families from its previous portal (issue 22).

`run_import(files, preset=..., apply=False)` is the dry run: every file read
and checked (families.import_rules), references checked against the other files
and against what earlier imports created, likely duplicates listed; nothing is
written. With `apply=True` each file's accepted lines are written in ONE
transaction per file (a failure leaves that file's rows untouched), in the
order households → representatives → children → health → authorised persons →
quotients. The source's identifiers are kept (`ImportedRecord`): importing the
same file again changes nothing, a changed line updates its row.

Runs in the current town's schema only (the caller sets it: the command, the
back-office view); nothing here names another town.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core import contributions, metrics
from core.towns import current_town
from families.import_rules import (
    ENTITIES,
    ORDER,
    Entity,
    FileCheck,
    FileProblem,
    Refusal,
    check_file,
    find_duplicates,
    person_key,
)
from families.models import (
    Adult,
    Child,
    EntourageMember,
    HealthSheet,
    Household,
    ImportedRecord,
    ImportRun,
)

BATCH = 500


@dataclass
class FileReport:
    entity: str
    label: str
    filename: str
    lines: int = 0
    accepted: int = 0
    refusals: list[Refusal] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    problem: str = ""  # the whole file could not be read
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    applied: bool = False


@dataclass
class ImportReport:
    files: list[FileReport]
    applied: bool

    @property
    def refused(self) -> int:
        return sum(len({r.line for r in f.refusals}) for f in self.files)

    @property
    def ok(self) -> bool:
        return not any(f.problem for f in self.files)

    def text(self) -> str:
        """The French report (command output, download from the back-office)."""
        out = [
            "Import — " + ("exécution" if self.applied else "essai à blanc (rien n'est enregistré)")
        ]
        for f in self.files:
            out.append("")
            out.append(f"Fichier {f.filename} ({f.label})")
            if f.problem:
                out.append(f"  Fichier refusé : {f.problem}")
                continue
            out.append(
                f"  {f.lines} ligne(s) lue(s), {f.accepted} acceptée(s), "
                f"{len({r.line for r in f.refusals})} refusée(s)"
            )
            if self.applied:
                out.append(
                    f"  {f.created} créée(s), {f.updated} mise(s) à jour, "
                    f"{f.unchanged} inchangée(s)"
                )
            for r in f.refusals:
                out.append(f"  REFUS — {r.text()}")
            for d in f.duplicates:
                out.append(f"  DOUBLON PROBABLE — {d}")
        return "\n".join(out) + "\n"


def _date_fr(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


# --- what each file becomes ----------------------------------------------------------


def _household(v, refs):
    return {
        "name": v["nom_foyer"],
        "address_line": v.get("adresse", ""),
        "postcode": v.get("code_postal", ""),
        "city": v.get("commune", ""),
        "allocataire_regime": v.get("regime", ""),
        "allocataire_number": v.get("numero_allocataire", ""),
    }


def _adult(v, refs):
    return {
        "household_id": refs["foyers"][v["id_foyer"]],
        "first_name": v["prenom"],
        "last_name": v["nom"],
        "email": v.get("email", ""),
        "phone": v.get("telephone", ""),
    }


def _child(v, refs):
    return {
        "household_id": refs["foyers"][v["id_foyer"]],
        "first_name": v["prenom"],
        "last_name": v["nom"],
        "birth_date": v["date_naissance"],
        "sex": v.get("sexe", ""),
        "school": v.get("ecole", ""),
        "school_class": v.get("classe", ""),
    }


def _health(v, refs):
    return {
        "child_id": refs["enfants"][v["id_enfant"]],
        "allergies": v.get("allergies", ""),
        "diet": v.get("regime_alimentaire") or HealthSheet.Diet.STANDARD,
        "pai": v.get("pai", False),
        "pai_details": v.get("pai_details", ""),
        "vaccinations_up_to_date": v.get("vaccinations_a_jour", False),
        "doctor_name": v.get("medecin", ""),
        "doctor_phone": v.get("telephone_medecin", ""),
        "photo_allowed": v.get("photo", False),
        "may_leave_alone": v.get("part_seul", False),
        "transport_allowed": v.get("transport", False),
        "emergency_care_allowed": v.get("soins_urgence", False),
    }


def _entourage(v, refs):
    return {
        "household_id": refs["foyers"][v["id_foyer"]],
        "first_name": v["prenom"],
        "last_name": v["nom"],
        "relationship": v.get("lien", ""),
        "phone": v["telephone"],
        "can_pick_up": v.get("peut_venir_chercher", False),
        "emergency_contact": v.get("a_prevenir", False),
    }


def _quotient(v, refs):
    return {
        "quotient_familial": v["quotient_familial"],
        "qf_source": v.get("source", ""),
        "qf_date": v.get("date_justificatif"),
    }


# entity -> (model, fields, creates rows?) ; quotients update the household.
SPECS: dict[str, tuple[type, Callable]] = {
    "foyers": (Household, _household),
    "responsables": (Adult, _adult),
    "enfants": (Child, _child),
    "sante": (HealthSheet, _health),
    "personnes_autorisees": (EntourageMember, _entourage),
    "quotients": (Household, _quotient),
}


# --- files other apps contribute ------------------------------------------------------


class Importer:
    """A file another app adds to the import (registrations: the booking core;
    opening balances: billing), returned by its AppConfig's `import_entities()`
    hook (core.contributions.import_entities: a service module's only in the
    towns that have it on). The platform never imports them: it reads, checks
    and references their lines like its own (`entity`, `parent`), then calls:
    - `check_rows(checked, today=...)`: checks against the town's data (an
      unknown service, a balance already taken over with another amount...):
      move refused rows from `checked.rows` to `checked.refusals`;
    - `apply(checked, report, today=...)`: write the accepted lines, inside the
      file's transaction, keeping the source identifiers (`ImportedRecord`) and
      counting created / updated / unchanged on `report`.
    """

    entity: Entity
    order: int = 100

    def check_rows(self, checked: FileCheck, *, today: dt.date) -> None:
        return None

    def apply(self, checked: FileCheck, report: FileReport, *, today: dt.date) -> None:
        raise NotImplementedError


def importers() -> dict[str, Importer]:
    """The contributed files of the current town, in their order."""
    return {i.entity.code: i for i in contributions.import_entities(current_town())}


def entities() -> dict[str, Entity]:
    """Every file the current town may import, in the order they are applied:
    the families' own, then the contributed ones."""
    out = {code: ENTITIES[code] for code in ORDER}
    out.update({code: i.entity for code, i in importers().items()})
    return out


def refuse_rows(checked: FileCheck, problems: dict[int, Refusal]) -> None:
    """Move the rows at these lines from the accepted to the refused (a hook's helper)."""
    if not problems:
        return
    checked.rows = [r for r in checked.rows if r.line not in problems]
    checked.refusals.extend(problems.values())
    checked.refusals.sort(key=lambda r: r.line)


# --- the run ------------------------------------------------------------------------


def known_ids(code: str) -> dict[str, int]:
    """Source identifier -> our row's id, for the lines of `code` imported before."""
    return dict(ImportedRecord.objects.filter(entity=code).values_list("source_id", "object_id"))


_known_ids = known_ids


def run_import(
    files: dict[str, tuple[str, object]],
    *,
    preset: str = "guichet",
    apply: bool = False,
    today: dt.date | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ImportReport:
    """`files`: entity code -> (file name, binary stream). See the module docstring."""
    today = today or timezone.localdate()
    started = time.monotonic()
    reports: list[FileReport] = []
    # Identifiers a line may refer to: earlier imports, plus (dry run) the
    # accepted lines of the files checked before this one.
    known: dict[str, set[str]] = {}
    contributed = importers()
    all_entities = entities()
    unknown = [code for code in files if code not in all_entities]
    for code in unknown:
        name = files[code][0]
        reports.append(FileReport(code, code, name, problem=f"{name} : fichier non attendu."))
    for code, entity in all_entities.items():
        if code not in files:
            continue
        filename, stream = files[code]
        report = FileReport(code, entity.label, filename)
        reports.append(report)
        if progress:
            progress(filename, 0)
        try:
            checked = check_file(entity, stream, filename, preset=preset, today=today)
        except FileProblem as exc:
            report.problem = str(exc)
            continue
        _check_references(checked, known)
        importer = contributed.get(code)
        if importer is not None:
            importer.check_rows(checked, today=today)
        report.lines, report.refusals = checked.lines, checked.refusals
        report.accepted = len(checked.rows)
        report.duplicates = _duplicates(checked)
        known.setdefault(code, set()).update(_known_ids(code))
        known[code].update(r.source_id for r in checked.rows)
        if apply:
            with transaction.atomic():
                if importer is not None:
                    importer.apply(checked, report, today=today)
                else:
                    _apply(checked, report)
            report.applied = True
        if progress:
            progress(filename, 100)
    result = ImportReport(reports, applied=apply)
    metrics.record_import(
        applied=apply,
        lines=sum(f.lines for f in reports),
        refused=result.refused,
        seconds=time.monotonic() - started,
    )
    return result


def _check_references(checked: FileCheck, known: dict[str, set[str]]) -> None:
    entity = checked.entity
    if not entity.parent:
        return
    parents = known.get(entity.parent, set()) | set(_known_ids(entity.parent))
    adults = None
    kept = []
    for row in checked.rows:
        ref = row.values[entity.parent_column]
        problem = None
        if ref not in parents:
            problem = Refusal.at(
                checked,
                row,
                entity.parent_column,
                f"inconnu : absent du fichier des {ENTITIES[entity.parent].label} "
                "et des imports précédents",
            )
        elif entity.code == "enfants" and row.values.get("responsables"):
            if adults is None:
                adults = known.get("responsables", set()) | set(_known_ids("responsables"))
            missing = [a for a in row.values["responsables"] if a not in adults]
            if missing:
                problem = Refusal.at(
                    checked,
                    row,
                    "responsables",
                    "responsable légal inconnu : absent du fichier des responsables légaux",
                    value=", ".join(missing),
                )
            elif len(row.values["responsables"]) > 2:
                problem = Refusal.at(
                    checked,
                    row,
                    "responsables",
                    "deux responsables légaux au plus par enfant",
                    value=", ".join(row.values["responsables"]),
                )
        if problem:
            checked.refusals.append(problem)
        else:
            kept.append(row)
    checked.rows = kept
    checked.refusals.sort(key=lambda r: r.line)


def _duplicates(checked: FileCheck) -> list[str]:
    if checked.entity.code not in ENTITIES:
        return []
    code = checked.entity.code
    mine = set(_known_ids(code).values())
    if code == "enfants":
        existing = {
            person_key(c.first_name, c.last_name, c.birth_date): f"{c.first_name} {c.last_name}, "
            f"né(e) le {_date_fr(c.birth_date)}, déjà enregistré(e)"
            for c in Child.objects.only("id", "first_name", "last_name", "birth_date").iterator()
            if c.pk not in mine
        }
        rows = (
            (
                person_key(r.values["prenom"], r.values["nom"], r.values["date_naissance"]),
                f"ligne {r.line} ({r.values['prenom']} {r.values['nom']}, né(e) le "
                f"{_date_fr(r.values['date_naissance'])})",
            )
            for r in checked.rows
        )
        return find_duplicates(rows, existing)
    if code == "responsables":
        existing = {
            (a.email.lower(),): f"{a.first_name} {a.last_name} ({a.email}), déjà enregistré(e)"
            for a in Adult.objects.exclude(email="")
            .only("id", "first_name", "last_name", "email")
            .iterator()
            if a.pk not in mine
        }
        rows = (
            (
                (r.values["email"],),
                f"ligne {r.line} ({r.values['prenom']} {r.values['nom']}, {r.values['email']})",
            )
            for r in checked.rows
            if r.values.get("email")
        )
        return find_duplicates(rows, existing)
    return []


def _apply(checked: FileCheck, report: FileReport) -> None:
    code = checked.entity.code
    model, fields_of = SPECS[code]
    records = {
        r.source_id: r
        for r in ImportedRecord.objects.filter(entity=code).only(
            "source_id", "object_id", "fingerprint"
        )
    }
    refs = {p: _known_ids(p) for p in ("foyers", "enfants", "responsables")}
    new: list[tuple[str, object, object]] = []  # (source id, row, instance)
    changed_records: list[ImportedRecord] = []
    quotients: list[Household] = []
    sheets: dict[int, int] = {}
    if code == "sante":  # the health sheets typed in the portal since, in one query
        children = [refs["enfants"][r.values["id_enfant"]] for r in checked.rows]
        sheets = dict(
            HealthSheet.objects.filter(child_id__in=children).values_list("child_id", "pk")
        )
    for row in checked.rows:
        values = fields_of(row.values, refs)
        record = records.get(row.source_id)
        if record and record.fingerprint == row.fingerprint:
            report.unchanged += 1
            continue
        if code == "quotients":
            target = refs["foyers"][row.source_id]
            quotients.append(Household(pk=target, **values))
            _upsert_record(code, row, target, record, changed_records)
            report.updated += 1
            continue
        if code == "sante" and record is None:
            # A health sheet typed in the portal since: the import updates it.
            existing = sheets.get(values["child_id"])
            if existing:
                record = ImportedRecord(
                    entity=code, source_id=row.source_id, object_id=existing, fingerprint=""
                )
        if record is not None:
            model.objects.filter(pk=record.object_id).update(**values)
            _after_write(code, row, record.object_id, refs)
            _upsert_record(code, row, record.object_id, record, changed_records)
            report.updated += 1
            continue
        new.append((row.source_id, row, model(**values)))
        if len(new) >= BATCH:
            _create(code, model, new, refs, report)
            new = []
    _create(code, model, new, refs, report)
    Household.objects.bulk_update(
        quotients, ["quotient_familial", "qf_source", "qf_date"], batch_size=BATCH
    )
    now = timezone.now()
    for r in changed_records:
        r.imported_at = now
    ImportedRecord.objects.bulk_create(
        [r for r in changed_records if r.pk is None], batch_size=BATCH
    )
    ImportedRecord.objects.bulk_update(
        [r for r in changed_records if r.pk is not None],
        ["object_id", "fingerprint", "imported_at"],
        batch_size=BATCH,
    )


def _upsert_record(code, row, object_id, record, out):
    if record is None:
        record = ImportedRecord(entity=code, source_id=row.source_id)
    record.object_id, record.fingerprint = object_id, row.fingerprint
    out.append(record)


def _create(code, model, new, refs, report) -> None:
    if not new:
        return
    model.objects.bulk_create([instance for _s, _r, instance in new])
    ImportedRecord.objects.bulk_create(
        [
            ImportedRecord(
                entity=code, source_id=source, object_id=instance.pk, fingerprint=row.fingerprint
            )
            for source, row, instance in new
        ]
    )
    if code == "enfants":
        through = Child.guardians.through
        through.objects.bulk_create(
            [
                through(child_id=instance.pk, adult_id=refs["responsables"][a])
                for _s, row, instance in new
                for a in row.values.get("responsables", ())
            ]
        )
    if code == "responsables":
        refs["responsables"].update({source: instance.pk for source, _r, instance in new})
        payers = {i.household_id: i.pk for _s, row, i in new if row.values.get("payeur")}
        Household.objects.bulk_update(
            [Household(pk=h, payer_id=a) for h, a in payers.items()], ["payer"], batch_size=BATCH
        )
    report.created += len(new)


def _after_write(code, row, object_id, refs) -> None:
    if code == "enfants":
        Child.objects.get(pk=object_id).guardians.set(
            [refs["responsables"][a] for a in row.values.get("responsables", ())]
        )
    if code == "responsables" and row.values.get("payeur"):
        Household.objects.filter(adults__pk=object_id).update(payer_id=object_id)


def imported_households() -> list[int]:
    """Households created by an import (for the activation-key letters)."""
    return list(ImportedRecord.objects.filter(entity="foyers").values_list("object_id", flat=True))


# --- files waiting between the dry run and the real run (back-office) ----------------

STAGE_TTL_SECONDS = 24 * 3600


def _stage_root() -> Path:
    return Path(settings.IMPORT_STAGING_DIR) / connection.schema_name


def _valid_stage(stage_id: str) -> bool:
    return bool(stage_id) and len(stage_id) == 32 and all(c in "0123456789abcdef" for c in stage_id)


def stage_files(files: dict[str, tuple[str, bytes]], preset: str) -> str:
    """Keep checked files until the real run; stale ones (a day) are removed."""
    root = _stage_root()
    if root.is_dir():
        for folder in root.iterdir():
            if folder.is_dir() and time.time() - folder.stat().st_mtime > STAGE_TTL_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
    stage_id = uuid.uuid4().hex
    folder = root / stage_id
    folder.mkdir(parents=True)
    for code, (_name, data) in files.items():
        (folder / f"{code}.bin").write_bytes(data)
    names = {code: name for code, (name, _d) in files.items()}
    (folder / "index.json").write_text(json.dumps({"preset": preset, "names": names}))
    return stage_id


def staged_files(stage_id: str):
    """(preset, {entity: (name, stream)}) or (None, None) when gone."""
    if not _valid_stage(stage_id):
        return None, None
    folder = _stage_root() / stage_id
    if not (folder / "index.json").is_file():
        return None, None
    index = json.loads((folder / "index.json").read_text())
    expected = entities()
    files = {
        code: (name, io.BytesIO((folder / f"{code}.bin").read_bytes()))
        for code, name in index["names"].items()
        if code in expected
    }
    return index["preset"], files


def drop_stage(stage_id: str) -> None:
    if _valid_stage(stage_id):
        shutil.rmtree(_stage_root() / stage_id, ignore_errors=True)


def report_data(report: ImportReport) -> dict:
    """What an ImportRun keeps of a report (JSON)."""
    return {
        "files": [
            {
                "label": f.label,
                "filename": f.filename,
                "problem": f.problem,
                "lines": f.lines,
                "accepted": f.accepted,
                "created": f.created,
                "updated": f.updated,
                "unchanged": f.unchanged,
                "refusals": [r.text() for r in f.refusals[:500]],
                "refused": len(f.refusals),
                "duplicates": f.duplicates[:500],
            }
            for f in report.files
        ]
    }


def run_staged_import(run_id: int, stage_id: str) -> None:
    """The Celery task's body: the real run of staged files, progress on the
    ImportRun, the report kept, the files deleted whatever happens."""

    run = ImportRun.objects.get(pk=run_id)
    preset, files = staged_files(stage_id)
    try:
        if files is None:
            raise FileProblem(
                "Les fichiers vérifiés ne sont plus disponibles : vérifiez-les à nouveau."
            )
        done = [0]

        def progress(filename, percent):
            if percent == 100:
                done[0] += 1
            ImportRun.objects.filter(pk=run_id).update(
                current_file=filename[:120], progress=int(100 * done[0] / len(files))
            )

        report = run_import(files, preset=preset or run.preset, apply=True, progress=progress)
    except Exception as exc:
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportRun.Status.FAILED,
            report={"error": str(exc)[:500]},
            finished_at=timezone.now(),
        )
        if not isinstance(exc, FileProblem):
            raise
        return
    finally:
        drop_stage(stage_id)
    ImportRun.objects.filter(pk=run_id).update(
        status=ImportRun.Status.DONE,
        progress=100,
        current_file="",
        report=report_data(report),
        finished_at=timezone.now(),
    )
