"""Opening balances taken over from a previous portal (issue 22): the `soldes`
file billing contributes to the family import through its AppConfig
(`import_entities`), kept the way billing keeps money: an amount owed is a
« solde repris » invoice in the family's amount due, a credit an open
over-payment; both are opening entries of the accounting export."""

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from accounts.testing import force_login_verified
from families.imports import entities, run_import
from families.models import Household, ImportedRecord
from modules.billing import selectors
from modules.billing.models import AccountCredit, Invoice
from tenants.testing import edit_town_config, module_switched_off

pytestmark = pytest.mark.django_db(transaction=False)

TODAY = dt.date(2026, 12, 7)
EXAMPLES = Path(settings.BASE_DIR) / "docs" / "import"
FAMILY_FILES = ("foyers", "responsables", "enfants")


def files(*codes):
    return {c: (f"{c}.csv", io.BytesIO((EXAMPLES / f"{c}.csv").read_bytes())) for c in codes}


def test_only_a_town_with_billing_gets_the_file(castres, in_town):
    with in_town(castres):
        assert "soldes" in entities()
        edit_town_config(castres, module_switched_off("billing"))
        assert "soldes" not in entities()


def test_dry_run_refusals_name_file_line_column_value(castres, in_town):
    with in_town(castres):
        report = run_import(files(*FAMILY_FILES, "soldes"), today=TODAY)
        assert not Invoice.objects.filter(kind="opening").exists()
    soldes = report.files[-1]
    assert [r.text() for r in soldes.refusals] == [
        "soldes.csv, ligne 4, colonne « regie », valeur « piscine » : régie inconnue de la "
        "commune ; régies : Régie accueils de loisirs, Régie scolaire et périscolaire, "
        "Régie petite enfance",
        "soldes.csv, ligne 5, colonne « id_foyer », valeur « F404 » : inconnu : absent du "
        "fichier des foyers et des imports précédents",
        "soldes.csv, ligne 6, colonne « montant », valeur « 0,00 » : montant nul : rien à "
        "reprendre (retirez la ligne)",
    ]
    assert soldes.accepted == 3


def test_owed_and_credit_balances_reach_amount_due_credit_and_accounting(castres, in_town):
    from modules.billing.accounting import export_settings, journal_lines

    with in_town(castres):
        report = run_import(files(*FAMILY_FILES, "soldes"), apply=True, today=TODAY)
        assert report.files[-1].created == 3
        bernard = Household.objects.get(name="Famille Bernard")
        assert selectors.amount_due(bernard) == (Decimal("42.50"), 1)
        opening = Invoice.objects.get(household=bernard)
        assert opening.kind == "opening" and opening.number.startswith("S2026-")
        assert opening.get_kind_display() == "solde repris"
        assert opening.payer_name == "Sophie Bernard"  # the file's payer
        assert opening.regie_code == "periscolaire"
        [line] = opening.lines.all()
        assert line.service_name == "Restauration de juin et juillet"
        okubo = Household.objects.get(name="Famille Ōkubo-Lefèvre")
        assert selectors.amount_due(okubo) == (Decimal("1234.56"), 1)
        nguyen = Household.objects.get(name="Famille Nguyen")
        assert selectors.amount_due(nguyen) == (Decimal(0), 0)
        assert selectors.open_credit(nguyen) == Decimal("15.00")
        credit = AccountCredit.objects.get(household=nguyen)
        assert (credit.provider, credit.regie_code) == ("reprise", "alsh")
        record = ImportedRecord.objects.get(entity="soldes", source_id="S002")
        assert record.object_id == -credit.pk

        lines = journal_lines(
            export_settings({}), *selectors.accounting_facts(dt.date(2026, 8, 1), TODAY)
        )
        opening_lines = [x for x in lines if x.kind == "opening"]
        assert {(x.journal, x.account, x.debit, x.credit) for x in opening_lines} >= {
            ("AN", "4111", Decimal("42.50"), Decimal("0.00")),
            ("AN", "890", Decimal("0.00"), Decimal("42.50")),
            ("AN", "890", Decimal("15.00"), Decimal("0.00")),
            ("AN", "4191", Decimal("0.00"), Decimal("15.00")),
        }
        assert sum(x.debit for x in lines) == sum(x.credit for x in lines)

        again = run_import(files(*FAMILY_FILES, "soldes"), apply=True, today=TODAY)
        assert (again.files[-1].created, again.files[-1].unchanged) == (0, 3)
        assert Invoice.objects.filter(kind="opening").count() == 2
        assert AccountCredit.objects.filter(provider="reprise").count() == 1


def test_a_balance_changed_after_its_take_over_is_refused(castres, in_town):
    with in_town(castres):
        run_import(files(*FAMILY_FILES, "soldes"), apply=True, today=TODAY)
        changed = (EXAMPLES / "soldes.csv").read_text().replace("42,50", "40,00")
        report = run_import(
            {"soldes": ("soldes.csv", io.BytesIO(changed.encode()))}, apply=True, today=TODAY
        )
        [f] = report.files
        assert f.refusals[0].line == 2
        assert "déjà repris avec d'autres valeurs" in f.refusals[0].reason
        assert f.created == 0
        bernard = Household.objects.get(name="Famille Bernard")
        assert selectors.amount_due(bernard) == (Decimal("42.50"), 1)


def test_the_accounting_csv_of_the_regie_shows_the_opening_entries(castres, in_town):
    from accounts.models import User

    with in_town(castres):
        run_import(files(*FAMILY_FILES, "soldes"), apply=True, today=TODAY)
        agent = User.objects.create_user(
            username="compta-reprise", password="x" * 20, role="agent", service_areas=["billing"]
        )
    client = Client()
    force_login_verified(client, agent, castres)
    response = client.get(
        "/castres/billing/gestion/comptabilite/journal.csv?du=2026-08-31&au=2026-08-31"
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    body = rows[1:]
    assert len(body) == 6  # two owed balances and a credit, two lines each
    assert {r[2] for r in body} == {"AN"}
    assert any(r[5].startswith("Solde repris S2026-") for r in body)
    assert any(r[5].startswith("Solde créditeur repris — Famille Nguyen") for r in body)


def test_the_family_sees_its_opening_balance_to_pay(castres, in_town, client):
    """The family's invoices page, the balance's own page and its PDF."""
    from families.testing import login, make_family

    family = make_family(castres, key="reprise-famille", last_name="Reprise")
    with in_town(castres):
        ImportedRecord.objects.create(
            entity="foyers", source_id="OLD-7", object_id=family.household.pk, fingerprint=""
        )
        text = (
            "id_solde;id_foyer;montant;date_solde;regie\nS7;OLD-7;42,50;31/08/2026;periscolaire\n"
        )
        report = run_import({"soldes": ("soldes.csv", io.BytesIO(text.encode()))}, today=TODAY)
        assert report.files[0].accepted == 1
        run_import({"soldes": ("soldes.csv", io.BytesIO(text.encode()))}, apply=True, today=TODAY)
        opening = Invoice.objects.get(household=family.household)
    login(client, castres, family.user)
    page = client.get("/castres/billing/factures/")
    body = page.content.decode()
    assert page.status_code == 200
    import html as html_lib
    import re as re_lib

    visible = re_lib.sub(r"\s+", " ", html_lib.unescape(re_lib.sub(r"<[^>]+>", " ", body)))
    assert "42,50" in visible, visible[visible.find("Factures") :][:1500]
    assert opening.number in body
    detail = client.get(f"/castres/billing/factures/{opening.pk}/")
    shown = re_lib.sub(
        r"\s+", " ", html_lib.unescape(re_lib.sub(r"<[^>]+>", " ", detail.content.decode()))
    )
    assert detail.status_code == 200
    assert "Solde dû dans l'ancien portail au 31/08/2026" in shown, shown[-2500:]
    pdf = client.get(f"/castres/billing/factures/{opening.pk}/pdf/")
    assert pdf.status_code in (200, 503)  # 503: WeasyPrint's system libraries missing
