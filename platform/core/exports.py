"""The one CSV/XLSX export helper: every spreadsheet a town downloads goes
through `spreadsheet_response` (back-office exports, day lists, billing lists).

- CSV: semicolons, UTF-8 with a BOM (what French spreadsheet software opens
  correctly); XLSX: openpyxl in write-only mode (docs/decisions/1001).
- Formula neutralising (OWASP "CSV injection"): a text cell starting with
  `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a formula by
  the spreadsheet; it is written with a leading apostrophe, so it shows as the
  text the family typed. Numbers, dates and booleans are left as they are (a
  negative amount stays a number).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def neutralise(value):
    """A cell value safe to open in a spreadsheet (pure)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | datetime.date | datetime.time):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def safe_rows(rows: Iterable[Sequence]) -> Iterable[list]:
    for row in rows:
        yield [neutralise(v) for v in row]


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([neutralise(c) for c in columns])
    writer.writerows(safe_rows(rows))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(columns: Sequence[str], rows: Iterable[Sequence], *, sheet: str = "export") -> bytes:
    from openpyxl import Workbook  # heavy: loaded on the first XLSX export only

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.append([neutralise(c) for c in columns])
    for row in safe_rows(rows):
        worksheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def spreadsheet_response(
    columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    filename: str,
    fmt: str = "csv",
    sheet: str = "",
) -> HttpResponse:
    """An attachment `filename` (without extension) in `fmt` ("csv" or "xlsx")."""
    if fmt == "xlsx":
        body, content_type = xlsx_bytes(columns, rows, sheet=sheet or filename), XLSX_TYPE
    elif fmt == "csv":
        body, content_type = csv_bytes(columns, rows), CSV_TYPE
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
