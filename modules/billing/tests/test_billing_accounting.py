"""Accounting journal export (issue #20, item 4): pure rules first (balanced
entries, credit notes, over-payments, empty period, odd Unicode, the town's
columns and codes, the period), then the staff page and its CSV from real
invoices, a desk payment and a credit note."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from accounts.testing import force_login_verified
from modules.billing import accounting
from modules.billing.accounting import (
    InvoiceFact,
    OverpaymentFact,
    PaymentFact,
    PeriodError,
    export_settings,
    journal_lines,
    journal_rows,
    period_from,
    totals,
)

D = Decimal
DAY = date(2026, 11, 3)


def inv(number="F2026-000001", total="42.50", day=DAY, **kw):
    base = {
        "regie_code": "periscolaire",
        "regie_name": "Régie périscolaire",
        "household_id": 12,
        "payer_name": "Alex Martin",
    }
    return InvoiceFact(number=number, day=day, total=D(total), **{**base, **kw})


def pay(amount="42.50", method="online", means="", day=DAY, **kw):
    base = {
        "receipt_number": "R2026-000001",
        "method_label": "carte bancaire en ligne",
        "invoice_number": "F2026-000001",
        "regie_code": "periscolaire",
        "regie_name": "Régie périscolaire",
        "household_id": 12,
        "payer_name": "Alex Martin",
    }
    return PaymentFact(day=day, amount=D(amount), method=method, means=means, **{**base, **kw})


def over(amount="10.00", **kw):
    base = {
        "reference": "TX-99",
        "day": DAY,
        "method": "online",
        "method_label": "carte bancaire en ligne",
        "regie_code": "periscolaire",
        "regie_name": "Régie périscolaire",
        "household_id": 12,
        "payer_name": "Famille Martin",
    }
    return OverpaymentFact(amount=D(amount), **{**base, **kw})


def _balanced_per_piece(lines):
    pieces = {}
    for x in lines:
        d, c = pieces.get(x.piece, (D(0), D(0)))
        pieces[x.piece] = (d + x.debit, c + x.credit)
    return all(d == c for d, c in pieces.values())


def test_invoice_payment_and_overpayment_balance_with_default_accounts():
    s = export_settings(None)
    lines = journal_lines(s, [inv()], [pay()], [over()])
    assert len(lines) == 6
    debit, credit = totals(lines)
    assert debit == credit == D("95.00")
    assert _balanced_per_piece(lines)
    by_kind = {(x.kind, x.account): (x.debit, x.credit) for x in lines}
    assert by_kind[("invoice", "4111")] == (D("42.50"), D("0.00"))
    assert by_kind[("invoice", "706")] == (D("0.00"), D("42.50"))
    assert by_kind[("payment", "515")] == (D("42.50"), D("0.00"))
    assert by_kind[("payment", "4111")] == (D("0.00"), D("42.50"))
    assert by_kind[("overpayment", "515")] == (D("10.00"), D("0.00"))
    assert by_kind[("overpayment", "4191")] == (D("0.00"), D("10.00"))
    assert {x.journal for x in lines if x.kind == "invoice"} == {"VT"}
    assert {x.journal for x in lines if x.kind != "invoice"} == {"BQ"}
    assert {x.household for x in lines} == {"F000012"}


def test_credit_note_reverses_the_invoice_and_a_refunded_family_nets_to_zero():
    """An avoir on a paid invoice (the money is refunded): revenue debited,
    the family credited; the family's account nets to what was paid."""
    s = export_settings(None)
    lines = journal_lines(
        s,
        [inv(), inv("A2026-000001", "-42.50", credit_note=True, corrects="F2026-000001")],
        [pay()],
        [],
    )
    assert _balanced_per_piece(lines)
    avoir = [x for x in lines if x.kind == "credit_note"]
    assert [(x.account, x.debit, x.credit) for x in avoir] == [
        ("706", D("42.50"), D("0.00")),
        ("4111", D("0.00"), D("42.50")),
    ]
    assert avoir[0].label == "Avoir A2026-000001 sur facture F2026-000001 — Alex Martin"
    customer = sum(x.debit - x.credit for x in lines if x.account == "4111")
    revenue = sum(x.credit - x.debit for x in lines if x.account == "706")
    assert revenue == 0
    assert customer == D("-42.50")  # owed back to the family: the régie refunds it


def test_empty_period_gives_headers_only():
    s = export_settings(None)
    lines = journal_lines(s, [], [], [])
    assert lines == [] and totals(lines) == (0, 0)
    headers, rows = journal_rows(s, lines)
    assert headers == [
        "Date",
        "N° de pièce",
        "Journal",
        "Compte",
        "Référence famille",
        "Libellé",
        "Débit",
        "Crédit",
        "Mode de règlement",
    ]
    assert rows == []


def test_nothing_due_invoice_makes_no_line_and_order_is_by_day():
    s = export_settings(None)
    lines = journal_lines(
        s,
        [inv("F2", "0.00"), inv("F3", "5", day=DAY + timedelta(days=1)), inv("F1", "7")],
        [pay(day=DAY - timedelta(days=1))],
        [],
    )
    assert [x.piece for x in lines] == ["R2026-000001"] * 2 + ["F1", "F1", "F3", "F3"]


def test_rows_use_decimal_comma_and_french_dates_and_clean_odd_unicode():
    s = export_settings(None)
    name = "Zoë\u00a0N’Diaye-Łukasz \U0001f600\nligne\u2028deux"
    _, rows = journal_rows(s, journal_lines(s, [inv(total="1234.5", payer_name=name)], [], []))
    first = rows[0]
    assert first[0] == "03/11/2026"
    assert first[6:8] == ["1234,50", "0,00"]
    assert "\n" not in first[5] and "\u2028" not in first[5]
    assert first[5] == "Facture F2026-000001 — Zoë\u00a0N’Diaye-Łukasz \U0001f600 ligne deux"


def test_the_towns_columns_headers_journals_and_accounts():
    s = export_settings(
        {
            "columns": ["kind", "date", "account", "debit", "credit", "regie", "payer", "method"],
            "headers": {"account": "Compte général"},
            "journals": {"sales": "VE", "payments": "RG"},
            "accounts": {
                "customer": "411000",
                "revenue": "7066",
                "revenue_by_regie": {"restauration": "7067"},
                "payment": "5151",
                "methods": {"desk": "5411", "cheque": "5112", "direct_debit": "5121"},
            },
            "date_format": "aaaa-mm-jj",
            "household_prefix": "",
        }
    )
    lines = journal_lines(
        s,
        [inv(regie_code="restauration"), inv("F9")],
        [
            pay(method="desk", means="cheque", receipt_number="R1"),
            pay(method="desk", means="cash", receipt_number="R2"),
            pay(method="direct_debit", receipt_number="R3"),
            pay(receipt_number="R4"),
        ],
        [],
    )
    debit_accounts = {x.piece: x.account for x in lines if x.debit}
    assert debit_accounts["R1"] == "5112" and debit_accounts["R2"] == "5411"
    assert debit_accounts["R3"] == "5121" and debit_accounts["R4"] == "5151"
    credits = {x.piece: x.account for x in lines if x.credit and x.kind == "invoice"}
    assert credits == {"F2026-000001": "7067", "F9": "7066"}
    assert {x.household for x in lines} == {"000012"}
    headers, rows = journal_rows(s, lines)
    assert headers[2] == "Compte général" and headers[0] == "Nature de l'écriture"
    assert rows[0][:2] == ["facture", "2026-11-03"]


def test_schema_accepts_the_section_and_refuses_unknown_columns():
    import jsonschema

    from modules.billing.apps import BILLING_SETTINGS_SCHEMA

    schema = BILLING_SETTINGS_SCHEMA["properties"]["accounting_export"]
    jsonschema.validate({"columns": ["date", "debit"], "accounts": {"customer": "411"}}, schema)
    for bad in (
        {"columns": ["date", "iban"]},
        {"accounts": {"methods": {"bitcoin": "512"}}},
        {"date_format": "mm/dd/yyyy"},
        {"journals": {"sales": "V T"}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("2026-02",), (date(2026, 2, 1), date(2026, 2, 28))),
        (("2028-02",), (date(2028, 2, 1), date(2028, 2, 29))),
        (("", "2026-11-05", "2026-12-04"), (date(2026, 11, 5), date(2026, 12, 4))),
    ],
)
def test_period(args, expected):
    assert period_from(*args) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("",), "Choisissez un mois"),
        (("2026-13",), "Choisissez un mois"),
        (("２０２６-11",), "Choisissez un mois"),
        (("", "2026-11-05", ""), "date de début et la date de fin"),
        (("", "2026-02-30", "2026-03-01"), "date de début n'est pas une date valide"),
        (("", "2026-03-01", "2026-02-01"), "avant la date de début"),
        (("", "2025-01-01", "2026-01-02"), "un an au plus"),
    ],
)
def test_period_refused_in_french(args, message):
    with pytest.raises(PeriodError, match=message):
        period_from(*args)


def test_file_stamp():
    assert accounting.file_stamp(date(2026, 2, 1), date(2026, 2, 28)) == "2026-02"
    assert accounting.file_stamp(date(2026, 2, 1), date(2026, 2, 27)) == "2026-02-01_2026-02-27"


# --- the staff page and the file, from real rows ---------------------------------------------

BASE = "/castres/billing/gestion/comptabilite/"


@pytest.fixture
def staff(castres, in_town):
    from accounts.models import User

    with in_town(castres):
        agent = User.objects.create_user(
            username="comptable-export", password="x" * 20, role="agent", service_areas=["billing"]
        )
    client = Client()
    force_login_verified(client, agent, castres)
    client.agent = agent
    return client


def _csv(response):
    body = response.content
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.django_db
def test_staff_page_and_csv_from_real_invoices(
    castres, in_town, staff, django_assert_max_num_queries
):
    from modules.billing import desk, services
    from modules.billing.testing import issue_day, make_invoiced_family

    with in_town(castres):
        paid = make_invoiced_family(castres, last_name="Comptaun", days=2)
        other = make_invoiced_family(castres, last_name="Ołdřich-Zoë", days=1)
        desk.pay_invoice_at_desk(
            invoice=paid.invoice,
            amount=paid.invoice.total,
            by=staff.agent,
            means="cheque",
            cheque_number="1234567",
            bank="Banque Postale",
        )
        services.issue_credit_note(
            invoice=other.invoice, reason="Erreur de saisie", by=staff.agent, today=issue_day()
        )
        make_invoiced_family(castres, last_name="Comptatrois", days=2)
    day = issue_day()
    query = f"du={day - timedelta(days=40)}&au={day + timedelta(days=1)}"
    with django_assert_max_num_queries(25):
        page = staff.get(BASE + "?" + query)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Télécharger le journal (CSV)" in text
    with django_assert_max_num_queries(25):
        response = staff.get(BASE + "journal.csv?" + query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "journal-comptable-castres-" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:3] == ["Date", "N° de pièce", "Journal"]
    body = rows[1:]
    debit = sum(D(r[6].replace(",", ".")) for r in body)
    credit = sum(D(r[7].replace(",", ".")) for r in body)
    assert debit == credit > 0
    labels = [r[5] for r in body]
    assert any(label.startswith("Avoir ") for label in labels)
    assert any("Règlement facture " + paid.invoice.number in label for label in labels)
    methods = {r[8] for r in body}
    assert "chèque n° 1234567 (Banque Postale), à la régie" in methods
    # a payer name starting with « = » is never a formula
    assert not any(cell.startswith("=") for r in body for cell in r)
    # two invoices make 3 pieces + 1 avoir + 1 payment -> 10 lines
    assert len(body) == 10


@pytest.mark.django_db
def test_empty_month_and_bad_periods(castres, in_town, staff):
    r = staff.get(BASE + "?mois=2001-01")
    assert r.status_code == 200
    assert "Aucune facture, aucun avoir ni aucun paiement" in r.content.decode()
    rows = _csv(staff.get(BASE + "journal.csv?mois=2001-01"))
    assert len(rows) == 1
    r = staff.get(BASE + "?du=2026-03-01&au=2026-02-01")
    assert r.status_code == 400
    assert "La date de fin est avant la date de début." in r.content.decode()
    r = staff.get(BASE + "journal.csv?mois=n%C3%A9ant%E2%98%83")
    assert r.status_code == 400
    assert "Choisissez un mois" in r.content.decode()


@pytest.mark.django_db
def test_without_a_period_the_month_just_ended(castres, in_town, staff):
    from django.utils import timezone

    from modules.billing.lines import previous_month

    year, month = previous_month(timezone.localdate())
    r = staff.get(BASE + "journal.csv")
    assert r.status_code == 200
    assert f"-{year}-{month:02d}.csv" in r["Content-Disposition"]
    assert f'value="{year}-{month:02d}"' in staff.get(BASE).content.decode()
