"""Registrations taken over from a previous portal (issue 22): the `inscriptions`
file the booking core contributes to the family import (booking.imports,
through BookingConfig.import_entities), checked and written by the platform's
import framework without it importing booking."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.conf import settings

from booking.imports import ENTITY, _rules
from booking.models import Registration
from families.import_rules import ORDER
from families.imports import entities, run_import
from families.models import Child, ImportedRecord

pytestmark = pytest.mark.django_db(transaction=False)

TODAY = dt.date(2026, 12, 7)
EXAMPLES = Path(settings.BASE_DIR) / "docs" / "import"


def files(*codes):
    return {c: (f"{c}.csv", io.BytesIO((EXAMPLES / f"{c}.csv").read_bytes())) for c in codes}


def test_the_file_is_contributed_by_the_booking_core(castres, in_town):
    with in_town(castres):
        codes = list(entities())
    assert codes[: len(ORDER)] == list(ORDER)
    assert codes.index("inscriptions") > codes.index("enfants")


def test_period_rules_are_french_and_normalise_the_school_year():
    def check(**values):
        return _rules(values, TODAY), values.get("annee_scolaire")

    assert check(annee_scolaire="2026-2027") == ([], 2026)
    assert check(annee_scolaire="2026/27") == ([], 2026)
    assert check(date_debut=dt.date(2027, 2, 1)) == ([], 2026)
    assert check(annee_scolaire="2026-2028")[0][0][1].startswith("une année scolaire va")
    assert "illisible" in check(annee_scolaire="l'an prochain")[0][0][1]
    assert "manquante" in check()[0][0][1]
    problems, _ = check(
        annee_scolaire="2026-2027", date_debut=dt.date(2026, 9, 2), date_fin=dt.date(2025, 9, 15)
    )
    assert problems == [("date_fin", "date de fin avant la date de début")]
    problems, _ = check(annee_scolaire="2026-2027", date_debut=dt.date(2027, 9, 2))
    assert problems == [("date_debut", "date hors de l'année scolaire 2026-2027")]
    assert ENTITY.parent == "enfants"


def test_dry_run_names_file_line_column_and_value_for_each_refusal(castres, in_town):
    with in_town(castres):
        before = Registration.objects.count()
        report = run_import(files("foyers", "responsables", "enfants", "inscriptions"), today=TODAY)
        assert Registration.objects.count() == before
    by_file = {f.entity: f for f in report.files}
    texts = [r.text() for r in by_file["inscriptions"].refusals]
    assert texts[0].startswith(
        "inscriptions.csv, ligne 5, colonne « service », valeur « piscine » : "
        "service inconnu de la commune ; services : Restauration scolaire, "
    )
    assert texts[1] == (
        "inscriptions.csv, ligne 6, colonne « id_enfant », valeur « E999 » : inconnu : "
        "absent du fichier des enfants et des imports précédents"
    )
    assert texts[2] == (
        "inscriptions.csv, ligne 7, colonne « date_fin », valeur « 15/09/2025 » : "
        "date de fin avant la date de début"
    )
    assert len(texts) == 3 and by_file["inscriptions"].accepted == 4


def test_real_run_registers_children_then_a_second_run_changes_nothing(castres, in_town):
    chosen = ("foyers", "responsables", "enfants", "inscriptions")
    with in_town(castres):
        before = Registration.objects.count()
        report = run_import(files(*chosen), apply=True, today=TODAY)
        assert report.files[-1].created == 4
        jules = Child.objects.get(first_name="Jules", last_name="Bernard")
        mine = {
            (r.service.code, r.school_year, r.status)
            for r in Registration.objects.filter(child=jules)
        }
        assert mine == {
            ("restauration-scolaire", 2026, "accepted"),
            ("accueil-soir", 2026, "accepted"),
        }
        ines = Registration.objects.get(child__first_name="Inès")
        assert ines.school_year == 2026  # from the first day, 01/09/2026
        chloe = Registration.objects.get(child__first_name="Chloé")
        assert (chloe.service.code, chloe.status, chloe.decided_at) == (
            "accueil-matin",
            "pending",
            None,
        )
        record = ImportedRecord.objects.get(entity="inscriptions", source_id="I001")
        assert Registration.objects.filter(pk=record.object_id, child=jules).exists()

        again = run_import(files(*chosen), apply=True, today=TODAY)
        assert (again.files[-1].created, again.files[-1].updated) == (0, 0)
        assert again.files[-1].unchanged == 4
        assert Registration.objects.count() == before + 4


def test_a_registration_typed_in_the_portal_since_is_adopted_not_doubled(castres, in_town):
    from core.models import Service

    with in_town(castres):
        run_import(files("foyers", "responsables", "enfants"), apply=True, today=TODAY)
        jules = Child.objects.get(first_name="Jules", last_name="Bernard")
        typed = Registration.objects.create(
            child=jules,
            service=Service.objects.get(code="restauration-scolaire"),
            school_year=2026,
            status="pending",
        )
        report = run_import(files("inscriptions"), apply=True, today=TODAY)
        [f] = report.files
        assert (f.created, f.updated) == (3, 1)
        typed.refresh_from_db()
        assert typed.status == "accepted"
        assert Registration.objects.filter(child=jules).count() == 2


def test_the_same_registration_twice_in_a_file_is_refused_once(castres, in_town):
    text = (
        "id_inscription;id_enfant;service;annee_scolaire\n"
        "A;E001;restauration-scolaire;2026-2027\n"
        "B;E001;Restauration scolaire;2026\n"
    )
    chosen = files("foyers", "responsables", "enfants")
    chosen["inscriptions"] = ("inscriptions.csv", io.BytesIO(text.encode()))
    with in_town(castres):
        report = run_import(chosen, today=TODAY)
    [refusal] = report.files[-1].refusals
    assert refusal.line == 3
    assert refusal.reason == "même enfant, même service et même année que la ligne 2"


def test_a_hand_typed_spreadsheet_maps_through_the_tableur_preset(castres, in_town):
    text = "Identifiant;Enfant;Activité;Année\nT1;E001;Restauration scolaire;2026-2027\n"
    chosen = files("foyers", "responsables", "enfants")
    chosen["inscriptions"] = ("inscriptions.csv", io.BytesIO(text.encode()))
    with in_town(castres):
        report = run_import(chosen, preset="tableur", today=TODAY)
    assert report.files[-1].problem == ""
    assert (report.files[-1].accepted, report.files[-1].refusals) == (1, [])
