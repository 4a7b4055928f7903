"""Importing a town's families (issue 22), against the real town schemas: the
documented example files of docs/import/, the dry run's report, the real run
all-or-nothing per file, idempotence, source identifiers, duplicates, and a
Bondoufle import that never touches Castres."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from families.import_rules import ORDER
from families.import_samples import generate, streams
from families.imports import run_import
from families.models import Adult, Child, EntourageMember, HealthSheet, Household, ImportedRecord

pytestmark = pytest.mark.django_db(transaction=False)

TODAY = dt.date(2026, 12, 7)
EXAMPLES = Path(settings.BASE_DIR) / "docs" / "import"


def example_files():
    return {code: (f"{code}.csv", (EXAMPLES / f"{code}.csv").open("rb")) for code in ORDER}


def counts():
    return (
        Household.objects.count(),
        Adult.objects.count(),
        Child.objects.count(),
        HealthSheet.objects.count(),
        EntourageMember.objects.count(),
    )


def test_dry_run_of_the_documented_examples_lists_each_refusal_and_writes_nothing(castres, in_town):
    with in_town(castres):
        before = counts()
        report = run_import(example_files(), today=TODAY)
        assert counts() == before
        assert ImportedRecord.objects.count() == 0
    refusals = [r.text() for f in report.files for r in f.refusals]
    assert refusals == [
        "enfants.csv, ligne 5, colonne « date_naissance », valeur « 31/02/2019 » : "
        "cette date n'existe pas dans le calendrier",
        "sante.csv, ligne 4, colonne « vaccinations_a_jour », valeur « peut-être » : "
        "répondez par oui ou non",
        "quotients.csv, ligne 4, colonne « quotient_familial » : quotient familial manquant",
    ]
    by_file = {f.entity: f for f in report.files}
    assert by_file["foyers"].accepted == 4 and by_file["enfants"].accepted == 4
    text = report.text()
    assert "essai à blanc" in text and "REFUS — enfants.csv, ligne 5" in text


def test_real_run_creates_the_rest_and_a_second_run_changes_nothing(castres, in_town):
    with in_town(castres):
        before = counts()
        first = run_import(example_files(), apply=True, today=TODAY)
        assert [f.created for f in first.files] == [4, 5, 4, 2, 2, 0]
        assert counts() == tuple(b + n for b, n in zip(before, (4, 5, 4, 2, 2), strict=True))
        jules = Child.objects.get(first_name="Jules", last_name="Bernard")
        assert {a.first_name for a in jules.guardians.all()} == {"Sophie", "Marc"}
        assert jules.health.pai and jules.health.diet == "medical"
        bernard = jules.household
        assert bernard.payer.first_name == "Sophie"
        assert (bernard.quotient_familial, bernard.qf_source) == (742, "caf")
        assert Household.objects.get(name="Famille Nguyen").quotient_familial == 1180
        assert Household.objects.get(name="Famille Ōkubo-Lefèvre").postcode == "08110"
        assert Adult.objects.get(first_name="Thi").phone == "06 98 76 54 32"
        # the source's identifiers are kept
        record = ImportedRecord.objects.get(entity="enfants", source_id="E001")
        assert record.object_id == jules.pk

        second = run_import(example_files(), apply=True, today=TODAY)
        assert counts() == tuple(b + n for b, n in zip(before, (4, 5, 4, 2, 2), strict=True))
        assert [f.created + f.updated for f in second.files] == [0] * 6
        assert sum(f.unchanged for f in second.files) == 4 + 5 + 4 + 2 + 2 + 2


def test_a_changed_line_updates_its_row_and_a_new_one_is_added(castres, in_town):
    with in_town(castres):
        run_import(example_files(), apply=True, today=TODAY)
        changed = (EXAMPLES / "enfants.csv").read_text(encoding="utf-8").replace("CE2", "CM1")
        changed += "E006;F003;Maëlle;Da Silva;01/01/2021;F;École Laden;PS;R004\n"
        files = {"enfants": ("enfants.csv", io.BytesIO(changed.encode()))}
        report = run_import(files, apply=True, today=TODAY)
        [f] = report.files
        assert (f.created, f.updated, f.unchanged) == (1, 1, 3)
        assert Child.objects.get(first_name="Jules").school_class == "CM1"
        assert Child.objects.filter(first_name="Maëlle").count() == 1


def test_references_to_unknown_households_or_guardians_are_refused(castres, in_town):
    text = (
        "id_enfant;id_foyer;prenom;nom;date_naissance;responsables\n"
        "E1;NOPE;Léa;Martin;03/03/2019;\n"
        "E2;F1;Hugo;Martin;03/03/2019;R9\n"
        "E3;F1;Zoé;Martin;03/03/2019;R1|R1b|R1c\n"
    )
    files = {
        "foyers": ("foyers.csv", io.BytesIO(b"id_foyer;nom_foyer\nF1;Famille Martin\n")),
        "responsables": (
            "responsables.csv",
            io.BytesIO(b"id_responsable;id_foyer;prenom;nom\nR1;F1;A;B\nR1b;F1;C;D\nR1c;F1;E;F\n"),
        ),
        "enfants": ("enfants.csv", io.BytesIO(text.encode())),
    }
    with in_town(castres):
        report = run_import(files, today=TODAY)
    reasons = [r.text() for r in report.files[2].refusals]
    assert reasons[0].startswith(
        "enfants.csv, ligne 2, colonne « id_foyer », valeur « NOPE » : inconnu"
    )
    assert "ligne 3" in reasons[1] and "R9" in reasons[1]
    assert "ligne 4" in reasons[2] and "deux responsables légaux au plus" in reasons[2]


def test_likely_duplicates_are_listed_not_refused(castres, in_town):
    from tests.factories import AdultFactory, ChildFactory, HouseholdFactory

    with in_town(castres):
        household = HouseholdFactory(name="Famille Bernard (saisie)")
        ChildFactory(
            household=household,
            first_name="JULES",
            last_name="bernard",
            birth_date=dt.date(2018, 3, 14),
        )
        AdultFactory(
            household=household, first_name="S", last_name="B", email="Sophie.Bernard@example.org"
        )
        report = run_import(example_files(), today=TODAY)
    by_file = {f.entity: f for f in report.files}
    assert by_file["enfants"].duplicates == [
        "ligne 2 (Jules Bernard, né(e) le 14/03/2018) ressemble à "
        "JULES bernard, né(e) le 14/03/2018, déjà enregistré(e)"
    ]
    assert "sophie.bernard@example.org" in by_file["responsables"].duplicates[0]
    assert by_file["enfants"].accepted == 4


def test_a_file_that_cannot_be_read_is_reported_and_the_others_still_checked(castres, in_town):
    files = example_files()
    files["foyers"] = ("foyers.csv", io.BytesIO("nom;prénom\nx;y\n".encode()))
    with in_town(castres):
        report = run_import(files, apply=True, today=TODAY)
        assert Household.objects.filter(name__startswith="Famille Bernard").count() == 0
    assert not report.ok
    assert "identifiant du foyer" in report.files[0].problem
    # without their households every other line is refused, with a reason
    assert report.files[1].accepted == 0
    assert "inconnu" in report.files[1].refusals[0].reason


def test_an_import_in_bondoufle_never_touches_castres(castres, bondoufle, in_town):
    with in_town(castres):
        castres_before = counts()
    with in_town(bondoufle):
        run_import(example_files(), apply=True, today=TODAY)
        assert Child.objects.filter(first_name="Jules", last_name="Bernard").count() == 1
    with in_town(castres):
        assert counts() == castres_before
        assert ImportedRecord.objects.count() == 0
        # Castres imports the same files: its own rows, its own identifiers
        report = run_import(example_files(), apply=True, today=TODAY)
        assert report.files[0].created == 4


def test_generated_town_of_4000_households_dry_run_lists_exactly_the_faulty_lines(castres, in_town):
    """The issue's acceptance, at full size: 4,000 households, 7,000 children, 2 %
    faulty lines in every file (households, representatives, children, health,
    authorised persons, QF, registrations, opening balances)."""
    files, faulty = generate(4000, fault_rate=0.02, today=TODAY)
    with in_town(castres):
        before = counts()
        report = run_import(streams(files), today=TODAY)
        assert counts() == before
    by_file = {f.entity: f for f in report.files}
    assert list(by_file) == [*ORDER, "inscriptions", "soldes"]
    assert (by_file["foyers"].lines, by_file["enfants"].lines) == (4000, 7000)
    refused = {(r.filename, r.line) for f in report.files for r in f.refusals}
    assert refused == faulty
    for f in report.files:  # 2 % of each file's lines, each with a French reason
        mine = {line for name, line in faulty if name == f.filename}
        assert len(mine) == round(f.lines * 0.02) > 0, f.filename
        assert f.accepted == f.lines - len(mine)
        assert all(r.reason and r.line in mine for r in f.refusals)
    reasons = {r.reason for f in report.files for r in f.refusals}
    assert "cette date n'existe pas dans le calendrier" in reasons
    assert any(r.startswith("service inconnu de la commune") for r in reasons)
    assert "montant nul : rien à reprendre (retirez la ligne)" in reasons


def test_generated_town_real_run_creates_the_rest_then_rerun_creates_nothing(castres, in_town):
    """The same generator at a CI-friendly size (the full size runs in
    bench/import_families.py, figures in docs/benchmarks.md)."""
    from booking.models import Registration
    from modules.billing.models import AccountCredit, Invoice

    files, faulty = generate(300, fault_rate=0.02, today=TODAY)
    with in_town(castres):
        before = counts()
        registrations = Registration.objects.count()
        report = run_import(streams(files), apply=True, today=TODAY)
        for f in report.files:  # quotients update their household: « updated »
            written = f.created + f.updated
            assert written == f.lines - len({x for x in faulty if x[0] == f.filename}), f.entity
        created = {f.entity: f.created for f in report.files}
        assert created["foyers"] == 300 - 6 and created["enfants"] == 525 - 10
        assert counts() == (
            before[0] + created["foyers"],
            before[1] + created["responsables"],
            before[2] + created["enfants"],
            before[3] + created["sante"],
            before[4] + created["personnes_autorisees"],
        )
        assert Registration.objects.count() - registrations == created["inscriptions"]
        balances = (
            Invoice.objects.filter(kind="opening").count()
            + AccountCredit.objects.filter(provider="reprise").count()
        )
        assert balances == created["soldes"]
        again = run_import(streams(files), apply=True, today=TODAY)
        assert sum(f.created + f.updated for f in again.files) == 0
        assert {(r.filename, r.line) for f in again.files for r in f.refusals} == faulty
        assert counts()[2] - before[2] == created["enfants"]
        assert Registration.objects.count() - registrations == created["inscriptions"]


def test_a_generated_bondoufle_import_never_touches_castres(castres, bondoufle, in_town):
    from booking.models import Registration
    from modules.billing.models import Invoice

    files, _faulty = generate(60, today=TODAY)
    with in_town(castres):
        castres_before = (counts(), Registration.objects.count(), Invoice.objects.count())
    with in_town(bondoufle):
        report = run_import(streams(files), apply=True, today=TODAY)
        assert {f.entity: f.created for f in report.files}["inscriptions"] > 0
        assert ImportedRecord.objects.filter(entity="soldes").exists()
    with in_town(castres):
        assert (counts(), Registration.objects.count(), Invoice.objects.count()) == castres_before
        assert not ImportedRecord.objects.exists()


def test_command_dry_run_then_real_run(castres, in_town, tmp_path, capsys):
    call_command("import_families", "castres", str(EXAMPLES), rapport=str(tmp_path / "r.txt"))
    out = capsys.readouterr().out
    assert "essai à blanc" in out and "REFUS" in out
    with in_town(castres):
        assert not ImportedRecord.objects.exists()
    call_command("import_families", "castres", str(EXAMPLES), executer=True)
    with in_town(castres):
        assert ImportedRecord.objects.filter(entity="foyers").count() == 4


def test_staged_run_records_progress_and_report_and_deletes_the_files(
    castres, in_town, settings, tmp_path
):
    from families.imports import run_staged_import, stage_files, staged_files
    from families.models import ImportRun

    settings.IMPORT_STAGING_DIR = str(tmp_path)
    with in_town(castres):
        data = {code: (f"{code}.csv", (EXAMPLES / f"{code}.csv").read_bytes()) for code in ORDER}
        stage = stage_files(data, "guichet")
        run = ImportRun.objects.create()
        run_staged_import(run.pk, stage)
        run.refresh_from_db()
        assert run.status == "done" and run.progress == 100
        assert [f["created"] for f in run.report["files"]] == [4, 5, 4, 2, 2, 0]
        assert staged_files(stage) == (None, None)  # deleted
        gone = ImportRun.objects.create()
        run_staged_import(gone.pk, stage)  # the same files again: they are gone
        gone.refresh_from_db()
        assert gone.status == "failed" and "plus disponibles" in gone.report["error"]
        assert staged_files("../../etc/passwd") == (None, None)
