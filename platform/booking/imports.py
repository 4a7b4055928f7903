"""Registrations taken over from a town's previous portal (issue 22): the
`inscriptions` file of the family import, contributed by the booking core's
AppConfig (`import_entities`, core.contributions) — the import framework
(families.imports) never imports this module.

One line = one child (by the previous portal's identifier, from the children
file or an earlier import) registered to one of the town's services for one
school year. Columns: docs/import/format.md. A line already taken over is
left alone when unchanged, updated when changed; a registration typed in the
portal since (same child, service and year) is adopted, never doubled.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from booking.models import Registration, Site
from booking.rules import school_year_label, school_year_of
from core import town_config
from families.import_rules import CHOICE, DATE, TEXT, Column, Entity, Refusal, normalize_header
from families.imports import FileCheck, FileReport, Importer, known_ids, refuse_rows
from families.models import ImportedRecord

CODE = "inscriptions"
_STATUSES = (
    ("accepted", ("validee", "acceptee", "inscrit", "inscrite", "oui", "active")),
    ("pending", ("en attente", "a valider", "en_attente", "demande")),
)


def _rules(values: dict, today: dt.date) -> list[tuple[str, str]]:
    """The period of a line (pure): a school year written 2026-2027 (or 2026),
    or found from the first day; an end after the start, both in that year."""
    out = []
    raw_year = values.get("annee_scolaire")
    start, end = values.get("date_debut"), values.get("date_fin")
    year = None
    if raw_year:
        match = re.fullmatch(r"(\d{4})(?:\s*[-/]\s*(\d{2}|\d{4}))?", raw_year)
        if not match:
            return [("annee_scolaire", "année scolaire illisible : écrivez-la 2026-2027")]
        year = int(match.group(1))
        if match.group(2):
            second = int(match.group(2))
            if second < 100:
                second += year // 100 * 100
            if second != year + 1:
                return [
                    (
                        "annee_scolaire",
                        "une année scolaire va d'une rentrée à la suivante (ex. 2026-2027)",
                    )
                ]
        if not today.year - 10 <= year <= today.year + 1:
            out.append(("annee_scolaire", "année scolaire trop ancienne ou trop lointaine"))
    elif start:
        year = school_year_of(start)
    else:
        out.append(("annee_scolaire", "année scolaire manquante (ou une date de début)"))
    if start and end and end < start:
        out.append(("date_fin", "date de fin avant la date de début"))
    elif year is not None:
        for column, day in (("date_debut", start), ("date_fin", end)):
            if day and school_year_of(day) != year:
                out.append((column, f"date hors de l'année scolaire {school_year_label(year)}"))
                break
    if not out:
        values["annee_scolaire"] = year
    return out


ENTITY = Entity(
    CODE,
    "inscriptions aux services",
    "id_inscription",
    (
        Column("id_inscription", "identifiant de l'inscription", required=True, max_length=64),
        Column("id_enfant", "identifiant de l'enfant", required=True, max_length=64),
        Column("service", "service", TEXT, required=True, max_length=160),
        Column("annee_scolaire", "année scolaire", TEXT, max_length=20),
        Column("date_debut", "date de début", DATE),
        Column("date_fin", "date de fin", DATE),
        Column("lieu", "lieu d'accueil", TEXT, max_length=160),
        Column("statut", "statut", CHOICE, choices=_STATUSES),
    ),
    parent="enfants",
    parent_column="id_enfant",
    rules=_rules,
    # A spreadsheet typed by hand (« Enfant », « Activité », « Année »...).
    presets={
        "tableur": {
            "identifiant": "id_inscription",
            "enfant": "id_enfant",
            "activite": "service",
            "prestation": "service",
            "annee": "annee_scolaire",
            "debut": "date_debut",
            "fin": "date_fin",
            "site": "lieu",
            "etat": "statut",
        }
    },
)


class RegistrationImporter(Importer):
    entity = ENTITY
    order = 70

    def check_rows(self, checked: FileCheck, *, today: dt.date) -> None:
        services, sites = {}, {}
        town_services = town_config.services(active=None)
        for pk, code, name in town_services.values_list("pk", "code", "name"):
            services[normalize_header(code)] = services[normalize_header(name)] = pk
        for pk, code, name in Site.objects.values_list("pk", "code", "name"):
            if code:
                sites[normalize_header(code)] = pk
            sites[normalize_header(name)] = pk
        names = ", ".join(town_services.order_by("position", "name").values_list("name", flat=True))
        problems: dict[int, Refusal] = {}
        seen: dict[tuple, int] = {}
        for row in checked.rows:
            v = row.values
            service = services.get(normalize_header(v["service"]))
            if service is None:
                problems[row.line] = Refusal.at(
                    checked, row, "service", f"service inconnu de la commune ; services : {names}"
                )
                continue
            site = None
            if v.get("lieu"):
                site = sites.get(normalize_header(v["lieu"]))
                if site is None:
                    problems[row.line] = Refusal.at(
                        checked, row, "lieu", "lieu d'accueil inconnu de la commune"
                    )
                    continue
            key = (v["id_enfant"], service, v["annee_scolaire"])
            if key in seen:
                problems[row.line] = Refusal.at(
                    checked,
                    row,
                    "service",
                    f"même enfant, même service et même année que la ligne {seen[key]}",
                )
                continue
            seen[key] = row.line
            v["_service_id"], v["_site_id"] = service, site
        refuse_rows(checked, problems)

    def apply(self, checked: FileCheck, report: FileReport, *, today: dt.date) -> None:
        records = {r.source_id: r for r in ImportedRecord.objects.filter(entity=CODE)}
        children = known_ids("enfants")
        live = {
            (child, service, year): pk
            for pk, child, service, year in Registration.objects.filter(
                status__in=[Registration.Status.PENDING, Registration.Status.ACCEPTED],
                child_id__in=[children[r.values["id_enfant"]] for r in checked.rows],
            ).values_list("pk", "child_id", "service_id", "school_year")
        }
        now = timezone.now()
        new: list[tuple] = []
        changed: list[ImportedRecord] = []
        for row in checked.rows:
            v = row.values
            record = records.get(row.source_id)
            if record and record.fingerprint == row.fingerprint:
                report.unchanged += 1
                continue
            status = v.get("statut") or Registration.Status.ACCEPTED
            fields = {
                "child_id": children[v["id_enfant"]],
                "service_id": v["_service_id"],
                "site_id": v["_site_id"],
                "school_year": v["annee_scolaire"],
                "status": status,
                "decided_at": now if status == Registration.Status.ACCEPTED else None,
            }
            target = record.object_id if record else None
            if target is None:
                target = live.get((fields["child_id"], fields["service_id"], fields["school_year"]))
            if target is not None:
                Registration.objects.filter(pk=target).update(**fields)
                record = record or ImportedRecord(entity=CODE, source_id=row.source_id)
                record.object_id, record.fingerprint = target, row.fingerprint
                changed.append(record)
                report.updated += 1
                continue
            new.append((row, Registration(**fields)))
        Registration.objects.bulk_create([r for _row, r in new], batch_size=1000)
        ImportedRecord.objects.bulk_create(
            [
                ImportedRecord(
                    entity=CODE,
                    source_id=row.source_id,
                    object_id=r.pk,
                    fingerprint=row.fingerprint,
                )
                for row, r in new
            ],
            batch_size=1000,
        )
        for record in changed:
            record.save()
        report.created += len(new)
