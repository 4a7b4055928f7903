"""Paiement de proximité: the DataMatrix content (pure), and the code printed on a
Castres invoice PDF decoded back (WeasyPrint -> pdftoppm -> zxing-cpp)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.test import Client

from modules.billing import pes, proximity
from modules.billing.testing import make_invoiced_family

HELIOS = pes.parse_helios(
    {
        "poste_comptable": "081010",
        "siret": "21810065000009",
        "code_collectivite": "065",
        "code_budget": "00",
        "code_nature": "01",
        "code_produit": "ENF",
        "nature": "7067",
        "proximity_payment": True,
    }
)


def test_content_says_the_titles_references_and_reads_back():
    ref = proximity.reference(
        HELIOS,
        invoice_number="F2026-000042",
        exercice=2026,
        amount=Decimal("16.4"),
        due_date=date(2026, 12, 30),
    )
    content = proximity.datamatrix_content(ref)
    # version 1, poste 0081010, collectivité 065, exercice 2026, période 0,
    # debt 0002026000042, keys 9 and W (test_billing_pes: worked by hand),
    # 1 640 cents, due 30/12/2026
    assert content == "1" + "0081010" + "065" + "2026" + "0" + "0002026000042" + "9W" + (
        "00001640" + "20261230"
    )
    assert len(content) == 47
    back = proximity.parse_content(content)
    assert (back.dette, back.cle1, back.cle2, back.amount, back.due_date) == (
        "0002026000042",
        9,
        "W",
        Decimal("16.40"),
        date(2026, 12, 30),
    )


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1"), Decimal("1000000.00")])
def test_content_refuses_an_amount_out_of_bounds(amount):
    ref = proximity.reference(
        HELIOS,
        invoice_number="F2026-000042",
        exercice=2026,
        amount=amount,
        due_date=date(2026, 12, 30),
    )
    with pytest.raises(ValueError):
        proximity.datamatrix_content(ref)


@pytest.mark.parametrize("text", ["", "2" + "0" * 46, "1" * 48, "1ＡＢ"])
def test_unreadable_content_is_refused(text):
    with pytest.raises(ValueError):
        proximity.parse_content(text)


def test_the_sentence_is_the_dgfips():
    assert "dans la limite de 300 €" in proximity.SENTENCE
    assert "www.impots.gouv.fr/portail/paiement-de-proximite" in proximity.SENTENCE


def test_the_code_is_a_square_symbol():
    """Not the rectangular DMRE symbol the writer would pick for 47 characters."""
    import re

    content = "1" + "0081010" + "065" + "2026" + "0" + "0002026000042" + "9W00001640" + "20261230"
    svg = proximity.datamatrix_svg(content)
    width, height = re.search(r'<svg width="(\d+)" height="(\d+)"', svg).groups()
    assert width == height, (width, height)


def _decode_png(png: bytes) -> list[str]:
    import zxingcpp
    from PIL import Image

    image = Image.open(BytesIO(png)).convert("L")
    return [
        r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.DataMatrix)
    ]


@pytest.mark.django_db
def test_castres_invoice_pdf_carries_a_datamatrix_that_decodes(castres, in_town, tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) absent")
    pytest.importorskip("weasyprint")
    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Buraliste", days=3)
        invoice = fam.invoice
        client = Client()
        client.force_login(fam.user)
    response = client.get(f"/castres/billing/factures/{invoice.pk}/pdf/")
    if response.status_code == 503:
        pytest.skip("WeasyPrint's system libraries are missing")
    assert response.status_code == 200
    pdf = tmp_path / "facture.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    [png] = sorted(tmp_path.glob("p*.png"))
    [content] = _decode_png(png.read_bytes())
    ref = proximity.parse_content(content)
    helios = pes.helios_from_town_config(castres.config)
    assert ref.poste_comptable == helios.poste_comptable.rjust(7, "0")
    assert ref.code_collectivite == helios.code_collectivite
    assert ref.exercice == invoice.invoice_date.year
    assert ref.dette == pes.num_dette(invoice.number).rjust(13, "0")
    keys = pes.piece_keys(
        code_collectivite="065",
        code_nature="01",
        exercice=ref.exercice,
        periode="0",
        dette=pes.num_dette(invoice.number),
    )
    assert (ref.cle1, ref.cle2) == (keys.cle1, keys.cle2)
    assert ref.amount == invoice.balance
    assert ref.due_date == invoice.due_date
    # the mandatory sentence, on the family's invoice page too
    page = client.get(f"/castres/billing/factures/{invoice.pk}/")
    assert "auprès d&#x27;un buraliste ou partenaire agréé" in page.content.decode()
    assert 'alt="Code à présenter au buraliste (DataMatrix)"' in page.content.decode()


@pytest.mark.django_db
def test_a_town_that_has_not_opted_in_shows_no_code(bondoufle, in_town):
    with in_town(bondoufle):
        fam = make_invoiced_family(bondoufle, last_name="Sanscode", days=2)
        assert proximity.for_invoice(fam.invoice, bondoufle) is None


@pytest.mark.django_db
def test_an_invoice_number_without_digits_gets_no_code(castres, in_town):
    """An invoice number without digits (e.g. one carried over from a previous
    portal) cannot make a Hélios debt number: the invoice shows without the
    proximity code instead of failing (the isolation matrix's « F-alpha » gave a 500)."""
    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Sanschiffre", days=2)
        invoice = fam.invoice
        assert proximity.for_invoice(invoice, castres) is not None
        invoice.number = "F-alpha"  # not saved: invoices are immutable
        assert proximity.for_invoice(invoice, castres) is None
