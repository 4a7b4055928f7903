"""core.exports: the one CSV/XLSX helper, and its formula neutralising."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.exports import csv_bytes, neutralise, spreadsheet_response, xlsx_bytes


@pytest.mark.parametrize("text", ["=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_starting_like_a_formula_is_kept_as_text(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    [12, -3, Decimal("-202.13"), 1.5, True, datetime.date(2026, 12, 7), "Léa", "a=b", ""],
)
def test_other_values_are_untouched(value):
    assert neutralise(value) == value


def test_none_is_an_empty_cell():
    assert neutralise(None) == ""


def test_csv_semicolons_bom_and_neutralised_cells():
    body = csv_bytes(["Nom", "Note"], [['=HYPERLINK("x")', -4], ["Martin", None]]).decode()
    assert body.startswith("\ufeffNom;Note\r\n")
    assert '\'=HYPERLINK(""x"")";-4' in body
    assert body.endswith("Martin;\r\n")


def test_xlsx_cells_are_neutralised_and_numbers_stay_numbers():
    sheet = load_workbook(io.BytesIO(xlsx_bytes(["Nom", "Montant"], [["@cmd", -3]]))).active
    assert [c.value for c in sheet[2]] == ["'@cmd", -3]


def test_response_names_the_file_and_refuses_unknown_formats():
    response = spreadsheet_response(["a"], [["b"]], filename="liste-1", fmt="xlsx")
    assert response["Content-Disposition"] == 'attachment; filename="liste-1.xlsx"'
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    with pytest.raises(ValueError):
        spreadsheet_response(["a"], [], filename="x", fmt="ods")
