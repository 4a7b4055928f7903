"""Paiement de proximité: the DataMatrix and the mandatory sentence on an invoice.

A town that sends its titles to Hélios in PES V2 must let families pay them in
cash (up to 300 €) or by card at an approved tobacconist: the invoice carries a
DataMatrix the tobacconist scans and the sentence below (decision 0205: the
sentence is the DGFiP's; the code's content is OUR layout, the DGFiP's
specification of it was not found, see there).

`datamatrix_content` / `parse_content` are pure; `datamatrix_svg` draws the
code with zxing-cpp; `for_invoice` says what an invoice shows (None: nothing).
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core import town_config

from . import pes

logger = logging.getLogger(__name__)

SENTENCE = (
    "Il est possible de régler en espèces (dans la limite de 300 €) ou en carte bancaire, "
    "muni du présent avis, auprès d'un buraliste ou partenaire agréé (liste consultable sur "
    "le site www.impots.gouv.fr/portail/paiement-de-proximite)."
)
CASH_LIMIT = Decimal("300.00")
VERSION = "1"
_LAYOUT = re.compile(
    r"(?P<version>1)(?P<poste>[0-9]{7})(?P<collectivite>[0-9]{3})(?P<exercice>[0-9]{4})"
    r"(?P<periode>[0-9])(?P<dette>[0-9]{13})(?P<cle1>[0-9])(?P<cle2>[A-Z])"
    r"(?P<cents>[0-9]{8})(?P<due>[0-9]{8})"
)


@dataclass(frozen=True)
class Reference:
    poste_comptable: str
    code_collectivite: str
    exercice: int
    periode: str
    dette: str  # 13 digits
    cle1: int
    cle2: str
    amount: Decimal
    due_date: date


def reference(
    helios: pes.HeliosSettings, *, invoice_number: str, exercice: int, amount, due_date
) -> Reference:
    dette = pes.num_dette(invoice_number)
    keys = pes.piece_keys(
        code_collectivite=helios.code_collectivite,
        code_nature=helios.code_nature,
        exercice=exercice,
        periode="0",
        dette=dette,
    )
    return Reference(
        poste_comptable=helios.poste_comptable,
        code_collectivite=helios.code_collectivite,
        exercice=exercice,
        periode="0",
        dette=dette.rjust(13, "0"),
        cle1=keys.cle1,
        cle2=keys.cle2,
        amount=Decimal(amount).quantize(Decimal("0.01")),
        due_date=due_date,
    )


def datamatrix_content(ref: Reference) -> str:
    """47 characters, digits and one letter (version, poste comptable on 7,
    collectivité, exercice, période, debt number on 13, keys 1 and 2, amount in
    cents on 8, due date AAAAMMJJ): the title's references as in the PES file."""
    cents = int(ref.amount * 100)
    if not 0 < cents < 10**8:
        raise ValueError("montant hors limites pour le code de paiement de proximité")
    return (
        f"{VERSION}{ref.poste_comptable.rjust(7, '0')}{ref.code_collectivite}{ref.exercice:04d}"
        f"{ref.periode}{ref.dette}{ref.cle1}{ref.cle2}{cents:08d}{ref.due_date:%Y%m%d}"
    )


def parse_content(text: str) -> Reference:
    match = _LAYOUT.fullmatch(text)
    if not match:
        raise ValueError("contenu du code de paiement de proximité illisible")
    g = match.groupdict()
    due = g["due"]
    return Reference(
        poste_comptable=g["poste"],  # on 7 digits
        code_collectivite=g["collectivite"],
        exercice=int(g["exercice"]),
        periode=g["periode"],
        dette=g["dette"],
        cle1=int(g["cle1"]),
        cle2=g["cle2"],
        amount=Decimal(int(g["cents"])) / 100,
        due_date=date(int(due[:4]), int(due[4:6]), int(due[6:])),
    )


def datamatrix_svg(content: str) -> str:
    import zxingcpp  # compiled library: loaded only when a code is drawn

    # Square ECC 200: left to itself the writer picks a rectangular DMRE symbol
    # (8×64) for our 47 characters, which not every scanner reads (decision 0205).
    barcode = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.DataMatrix, force_square=True)
    return barcode.to_svg()


def datamatrix_data_uri(content: str) -> str:
    svg = datamatrix_svg(content).encode()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def for_invoice(invoice, commune) -> dict | None:
    """What the invoice (page and PDF) shows, or None: the town has not opted in,
    a credit note, nothing owed, or a direct debit will collect it."""
    try:
        helios = pes.parse_helios(town_config.module_settings(commune, "billing").get("helios"))
    except pes.PesError:
        return None
    if helios is None or not helios.proximity_payment:
        return None
    if invoice.kind == "credit" or invoice.balance <= 0 or invoice.status == "direct_debit":
        return None
    try:
        ref = reference(
            helios,
            invoice_number=invoice.number,
            exercice=invoice.invoice_date.year,
            amount=invoice.balance,
            due_date=invoice.due_date,
        )
        content = datamatrix_content(ref)
    except ValueError as exc:
        # A number without digits (an imported invoice's) or an amount out of the
        # code's limits: the invoice still shows, without a proximity code.
        logger.warning("Pas de code de paiement de proximité pour %s : %s", invoice.number, exc)
        return None
    return {
        "content": content,
        "image": datamatrix_data_uri(content),
        "sentence": SENTENCE,
        "reference": f"{ref.code_collectivite}-{ref.exercice}-{ref.dette}-{ref.cle1}{ref.cle2}",
    }
