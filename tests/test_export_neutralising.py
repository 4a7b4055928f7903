"""CSV/XLSX injection on the REAL exports: what a family typed (its household's
name, its address) starting with = + - @ reaches the town's spreadsheet as
text, never as a formula (core.exports.neutralise, used by every export)."""

import csv
import io

import pytest
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from families.models import Household
from families.testing import make_family

pytestmark = pytest.mark.django_db

TYPED = {
    "name": '=HYPERLINK("http://pirate.example/","Cliquez")',
    "address_line": "+33 rue du Piège",
    "city": "@SUM(1+1)*cmd|' /C calc'!A0",
}


def test_family_typed_formulas_are_text_in_the_csv_and_xlsx_exports(castres, castres_admin):
    family = make_family(castres, key="injection", last_name="Injection")
    with tenant_context(castres):
        Household.objects.filter(pk=family.household.pk).update(**TYPED)

    csv_text = castres_admin.get("/castres/gestion/exports/familles.csv").content.decode(
        "utf-8-sig"
    )
    cells = [cell for row in csv.reader(io.StringIO(csv_text), delimiter=";") for cell in row]
    for value in TYPED.values():
        assert "'" + value in cells, value
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], "formule exécutable"

    xlsx = castres_admin.get("/castres/gestion/exports/familles.xlsx").content
    values = [v for row in load_workbook(io.BytesIO(xlsx)).active.values for v in row]
    texts = [v for v in values if isinstance(v, str)]
    assert "'" + TYPED["name"] in texts
    assert not [v for v in texts if v[:1] in ("=", "+", "-", "@")]
