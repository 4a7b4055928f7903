"""PES V2 recette « ORMC » for Hélios (pure: no database).

What a town's treasury (DGFiP, Hélios) accepts from a town that bills families:
one file per régie and month, one bordereau (TypBord 06, ORMC), one pièce per
invoice (TypPce 15, NatPce 01), its lines (sous-articles), the debtor (Tiers)
and, for an invoice paid by direct debit, the SEPA block. Sources and what we
could not confirm: docs/decisions/0206-pes-v2-ormc.md.

This module holds:
- the two keys Hélios checks on an ORMC article (`cle1_modulo11`, `cle2_modulo23`,
  `piece_keys`);
- the town's Hélios identifiers (`HeliosSettings`, from `module_settings.billing.helios`);
- the debtor check (`debtor_problems`): a family without the data Hélios needs
  blocks the batch with a French sentence naming the family and the field;
- the XML writer (`build_pes_xml`) and the checks of the file (`validate_pes`:
  our XSD, then the documented rules a schema cannot say).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

NS = "http://www.minefi.gouv.fr/cp/helios/pes_v2/Rev0/aller"
PES_XSD = Path(__file__).parent / "schemas" / "pes_v2_recette_ormc.xsd"
MOD23_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"  # 23 letters: no I, O, Z
TYP_BORD_ORMC = "06"
TYP_PCE_ORMC = "15"
NAT_PCE_ORDINAIRE = "01"
CIVILITIES = {"M": "M.", "MME": "Mme"}  # PES value -> what a person reads
SEQUENCE_CODES = {"FRST": "02", "RCUR": "03", "FNAL": "04", "OOFF": "01"}


class PesError(ValueError):
    """A file Hélios would reject; `problems` are French sentences."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# --- the keys -----------------------------------------------------------------------------


def _digits(value: str) -> str:
    if not re.fullmatch(r"[0-9]+", value or ""):
        raise ValueError(f"chiffres attendus : {value!r}")
    return value


def cle1_modulo11(number: str) -> int:
    """Modulo 11 key of a digit string: weights 2, 3, 4, 5, 6, 7 from the
    rightmost digit (repeating), key = 11 - (sum mod 11); 10 and 11 give 1."""
    total = sum(int(digit) * (2 + i % 6) for i, digit in enumerate(reversed(_digits(number))))
    key = 11 - total % 11
    return 1 if key > 9 else key


def cle2_modulo23(number: str) -> str:
    """Modulo 23 key: the letter of rank (N mod 23) in A…Y without I, O, Z."""
    return MOD23_LETTERS[int(_digits(number)) % 23]


def num_dette(invoice_number: str) -> str:
    """'F2026-000042' -> '2026000042': the invoice number's digits (≤ 13)."""
    digits = re.sub(r"\D", "", invoice_number)
    if not digits or len(digits) > 13:
        raise ValueError(f"numéro de facture inutilisable comme numéro de dette : {invoice_number}")
    return digits


@dataclass(frozen=True)
class PieceKeys:
    cle1: int
    cle2: str


def piece_keys(
    *, code_collectivite: str, code_nature: str, exercice: int, periode: str, dette: str
) -> PieceKeys:
    """Cle1 on collectivité (3) + nature of the rôle (2) + exercice (2) + période (1)
    + debt number (13 digits); Cle2 on exercice (2) + période + « 00 » + debt number."""
    exer2 = f"{exercice % 100:02d}"
    dette13 = _digits(dette).rjust(13, "0")
    return PieceKeys(
        cle1=cle1_modulo11(f"{code_collectivite}{code_nature}{exer2}{periode}{dette13}"),
        cle2=cle2_modulo23(f"{exer2}{periode}00{dette13}"),
    )


# --- the town's identifiers ---------------------------------------------------------------


@dataclass(frozen=True)
class RegieAccounts:
    code_produit: str  # CodProdLoc (4 letters/digits)
    nature: str  # compte nature (e.g. 7067)
    fonction: str = ""


@dataclass(frozen=True)
class HeliosSettings:
    poste_comptable: str  # IdPost, 6 or 7 digits
    siret: str  # IdColl, 14 digits
    code_collectivite: str  # CodCol, 3 digits
    code_budget: str  # CodBud
    code_nature: str  # nature of the ORMC rôle (2 digits), part of Cle1
    accounts: RegieAccounts
    regies: Mapping[str, RegieAccounts] = field(default_factory=dict)
    libelle: str = ""
    proximity_payment: bool = False

    def accounts_for(self, regie_code: str) -> RegieAccounts:
        return self.regies.get(regie_code, self.accounts)


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def helios_problems(section: Mapping | None) -> list[str]:
    """French problems of a `helios` section (empty: fine or absent)."""
    if not section:
        return []
    out = []
    checks = [
        ("poste_comptable", r"[0-9]{6,7}", "6 ou 7 chiffres"),
        ("siret", r"[0-9]{14}", "14 chiffres"),
        ("code_collectivite", r"[0-9]{3}", "3 chiffres"),
        ("code_budget", r"[0-9A-Za-z]{1,10}", "1 à 10 lettres ou chiffres"),
        ("code_nature", r"[0-9]{2}", "2 chiffres"),
        ("code_produit", r"[0-9A-Za-z]{1,4}", "1 à 4 lettres ou chiffres"),
        ("nature", r"[0-9]{1,12}", "1 à 12 chiffres"),
    ]
    for key, pattern, words in checks:
        value = str(section.get(key, ""))
        if not re.fullmatch(pattern, value):
            out.append(f"helios.{key} : {words} attendus (reçu « {value} »).")
    siret = str(section.get("siret", ""))
    if re.fullmatch(r"[0-9]{14}", siret) and not _luhn_ok(siret):
        out.append("helios.siret : la clé de contrôle du SIRET est fausse.")
    for code, raw in (section.get("regies") or {}).items():
        if not re.fullmatch(r"[0-9A-Za-z]{1,4}", str(raw.get("code_produit", ""))):
            out.append(f"helios.regies.{code}.code_produit : 1 à 4 lettres ou chiffres attendus.")
        if not re.fullmatch(r"[0-9]{1,12}", str(raw.get("nature", ""))):
            out.append(f"helios.regies.{code}.nature : 1 à 12 chiffres attendus.")
    return out


def parse_helios(section: Mapping | None) -> HeliosSettings | None:
    """`module_settings.billing.helios` -> settings (None: the town sends no PES)."""
    if not section:
        return None
    problems = helios_problems(section)
    if problems:
        raise PesError(problems)
    return HeliosSettings(
        poste_comptable=str(section["poste_comptable"]),
        siret=str(section["siret"]),
        code_collectivite=str(section["code_collectivite"]),
        code_budget=str(section["code_budget"]),
        code_nature=str(section["code_nature"]),
        accounts=RegieAccounts(
            code_produit=str(section["code_produit"]),
            nature=str(section["nature"]),
            fonction=str(section.get("fonction", "")),
        ),
        regies={
            code: RegieAccounts(
                code_produit=str(raw["code_produit"]),
                nature=str(raw["nature"]),
                fonction=str(raw.get("fonction", "")),
            )
            for code, raw in (section.get("regies") or {}).items()
        },
        libelle=str(section.get("libelle", "")),
        proximity_payment=bool(section.get("proximity_payment", False)),
    )


def helios_from_town_config(data: Mapping) -> HeliosSettings | None:
    return parse_helios(((data.get("module_settings") or {}).get("billing") or {}).get("helios"))


# --- what goes into a file ----------------------------------------------------------------


@dataclass(frozen=True)
class Debtor:
    family: str  # what staff read (« Famille Martin »)
    civility: str  # "M", "MME" or ""
    last_name: str
    first_name: str
    address: str
    postcode: str
    city: str


@dataclass(frozen=True)
class Sepa:
    rum: str
    signed_on: date
    sequence: str  # FRST / RCUR
    collection_date: date
    amount: Decimal
    iban: str
    bic: str
    holder: str


@dataclass(frozen=True)
class PieceLine:
    label: str
    amount: Decimal


@dataclass(frozen=True)
class PieceData:
    invoice_number: str
    label: str
    lines: tuple[PieceLine, ...]
    debtor: Debtor
    sepa: Sepa | None = None

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True)
class BatchData:
    file_name: str
    exercice: int
    bordereau: int  # IdBord
    issued_on: date
    regie_code: str
    label: str
    pieces: tuple[PieceData, ...]
    emitter: str = "Guichet Famille"


_POSTCODE = re.compile(r"[0-9]{5}")


def debtor_problems(debtor: Debtor) -> list[str]:
    """What Hélios needs and this debtor lacks, one French sentence per field."""
    out = []
    who = debtor.family
    if debtor.civility not in CIVILITIES:
        out.append(f"{who} : la civilité du payeur (M. ou Mme) n'est pas renseignée.")
    if not debtor.last_name.strip():
        out.append(f"{who} : le nom du payeur manque.")
    if not debtor.first_name.strip():
        out.append(f"{who} : le prénom du payeur manque.")
    if not debtor.address.strip():
        out.append(f"{who} : l'adresse postale (rue) manque.")
    if not _POSTCODE.fullmatch(debtor.postcode.strip()):
        out.append(f"{who} : le code postal doit compter 5 chiffres.")
    if not debtor.city.strip():
        out.append(f"{who} : la commune de l'adresse manque.")
    return out


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _text(value: str, limit: int) -> str:
    """PES texts: one line, no control characters, at most `limit` characters."""
    cleaned = re.sub(r"[\x00-\x1f\x7f]+", " ", value).strip()
    return re.sub(r"\s+", " ", cleaned)[:limit]


def _el(parent, tag: str, value=None):
    node = ET.SubElement(parent, tag)
    if value is not None:
        node.set("V", str(value))
    return node


def build_pes_xml(batch: BatchData, helios: HeliosSettings) -> bytes:
    """The PES_Aller file (ISO-8859-1, as Hélios reads it); refuses a batch that
    has no piece, a piece at 0 € or less, or a debtor with missing data."""
    problems = []
    if not batch.pieces:
        problems.append("Aucune facture à transmettre pour cette régie et ce mois.")
    for piece in batch.pieces:
        problems += debtor_problems(piece.debtor)
        if piece.total <= 0 or any(line.amount <= 0 for line in piece.lines):
            problems.append(f"Facture {piece.invoice_number} : montant nul ou négatif.")
    if problems:
        raise PesError(problems)
    accounts = helios.accounts_for(batch.regie_code)
    root = ET.Element(f"{{{NS}}}PES_Aller")
    env = _el(root, "Enveloppe")
    params = _el(env, "Parametres")
    _el(params, "Version", 2)
    _el(params, "TypFic", "PESORMC")
    _el(params, "NomFic", _text(batch.file_name, 100))
    emitter = _el(env, "Emetteur")
    _el(emitter, "Sigle", _text(batch.emitter, 40))
    head = _el(root, "EnTetePES")
    _el(head, "DteStr", batch.issued_on.isoformat())
    _el(head, "IdPost", helios.poste_comptable)
    _el(head, "IdColl", helios.siret)
    _el(head, "CodCol", helios.code_collectivite)
    _el(head, "CodBud", helios.code_budget)
    recette = _el(root, "PES_RecetteAller")
    head_r = _el(recette, "EnTeteRecette")
    _el(head_r, "IdVer", 2)
    _el(head_r, "InfoDematerialisee", 0)
    bord = _el(recette, "Bordereau")
    bloc = _el(bord, "BlocBordereau")
    _el(bloc, "Exer", batch.exercice)
    _el(bloc, "IdBord", batch.bordereau)
    _el(bloc, "DteBordEm", batch.issued_on.isoformat())
    _el(bloc, "TypBord", TYP_BORD_ORMC)
    _el(bloc, "NbrPce", len(batch.pieces))
    _el(bloc, "MtBordHt", _money(sum((p.total for p in batch.pieces), Decimal(0))))
    _el(bloc, "DteAsp", batch.issued_on.isoformat())
    _el(bloc, "Objet", _text(batch.label, 160))
    for n, piece in enumerate(batch.pieces, start=1):
        dette = num_dette(piece.invoice_number)
        keys = piece_keys(
            code_collectivite=helios.code_collectivite,
            code_nature=helios.code_nature,
            exercice=batch.exercice,
            periode="0",
            dette=dette,
        )
        node = _el(bord, "Piece")
        bp = _el(node, "BlocPiece")
        _el(bp, "IdPce", n)
        _el(bp, "TypPce", TYP_PCE_ORMC)
        _el(bp, "NatPce", NAT_PCE_ORDINAIRE)
        _el(bp, "ObjPce", _text(piece.label, 160))
        _el(bp, "NumDette", dette)
        _el(bp, "Per", "0")
        _el(bp, "Cle1", keys.cle1)
        _el(bp, "Cle2", keys.cle2)
        for i, line in enumerate(piece.lines, start=1):
            lig = _el(node, "LigneDePiece")
            blp = _el(lig, "BlocLignePiece")
            info = _el(blp, "InfoLignePiece")
            _el(info, "IdLigne", i)
            _el(info, "ObjLignePce", _text(line.label, 160))
            _el(info, "CodProdLoc", accounts.code_produit)
            _el(info, "Nature", accounts.nature)
            if accounts.fonction:
                _el(info, "Fonction", accounts.fonction)
            _el(info, "Majo", 0)
            _el(info, "TvaIntraCom", 0)
            _el(info, "MtHT", _money(line.amount))
            if piece.sepa is not None:
                s = piece.sepa
                sepa = _el(blp, "InfoPrelevementSEPA")
                _el(sepa, "NatPrel", "01")
                _el(sepa, "PerPrel", "07")
                _el(sepa, "DtePrel", s.collection_date.isoformat())
                _el(sepa, "MtPrel", _money(line.amount))
                _el(sepa, "SequencePres", SEQUENCE_CODES.get(s.sequence, "02"))
                _el(sepa, "DateSignMandat", s.signed_on.isoformat())
                _el(sepa, "RefUniMdt", s.rum)
                _el(sepa, "LibPrel", _text(f"Facture {piece.invoice_number}", 140))
            tiers = _el(lig, "Tiers")
            it = _el(tiers, "InfoTiers")
            _el(it, "CatTiers", "01")  # personne physique
            _el(it, "NatJur", "01")  # particulier
            _el(it, "TypTiers", "01")  # tiers de droit commun
            _el(it, "Civilite", CIVILITIES[piece.debtor.civility])
            _el(it, "Nom", _text(piece.debtor.last_name, 38))
            _el(it, "Prenom", _text(piece.debtor.first_name, 38))
            adr = _el(tiers, "Adresse")
            _el(adr, "TypAdr", 1)
            _el(adr, "Adr2", _text(piece.debtor.address, 38))
            _el(adr, "CP", piece.debtor.postcode.strip())
            _el(adr, "Ville", _text(piece.debtor.city, 38))
            _el(adr, "CodRes", 0)
            if piece.sepa is not None:
                bank = _el(tiers, "CpteBancaire")
                _el(bank, "BIC", piece.sepa.bic)
                _el(bank, "IBAN", piece.sepa.iban)
                _el(bank, "TitCpte", _text(piece.sepa.holder, 32))
    ET.register_namespace("n", NS)
    return ET.tostring(root, encoding="ISO-8859-1", xml_declaration=True)


# --- checking a file ----------------------------------------------------------------------


@cache
def _schema():
    # libxml2 through lxml: xmlschema (pure Python) needs about a minute for a
    # 10,000-title file, libxml2 a second (docs/benchmarks.md, decision 0204).
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(PES_XSD)))


def validate_pes(xml: bytes) -> None:
    """Our XSD of the ORMC subset (docs/decisions/0204), then the documented rules
    a schema cannot say: counts, sums, keys, a SEPA block complete."""
    # Heavy library (lxml/libxml2: loaded only when a PES file is checked).
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        tree = etree.fromstring(xml, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise PesError([f"XML illisible : {exc}"]) from None
    schema = _schema()
    if not schema.validate(tree):
        raise PesError(
            [
                f"Non conforme au schéma PES : ligne {e.line} : {e.message}"
                for e in list(schema.error_log)[:10]
            ]
        )
    problems = rule_problems(tree)
    if problems:
        raise PesError(problems)


def _v(node, path: str) -> str:
    found = node.find(path)
    return "" if found is None else found.get("V", "")


def rule_problems(root) -> list[str]:
    """Rules of the PES recette documentation checked field by field."""
    out: list[str] = []
    head = root.find("EnTetePES")
    bord = root.find("PES_RecetteAller/Bordereau")
    bloc = bord.find("BlocBordereau")
    pieces = bord.findall("Piece")
    if _v(root, "PES_RecetteAller/EnTeteRecette/IdVer") != "2":
        out.append("EnTeteRecette/IdVer doit valoir 2.")
    if _v(bloc, "TypBord") != TYP_BORD_ORMC:
        out.append("TypBord doit valoir 06 (ORMC).")
    if int(_v(bloc, "NbrPce")) != len(pieces) or not pieces:
        out.append("NbrPce ne correspond pas au nombre de pièces.")
    total = Decimal(0)
    exer = int(_v(bloc, "Exer"))
    for piece in pieces:
        bp = piece.find("BlocPiece")
        ident = _v(bp, "NumDette")
        if int(_v(bp, "IdPce")) <= 0:
            out.append(f"Pièce {ident} : IdPce doit être supérieur à 0.")
        if _v(bp, "TypPce") != TYP_PCE_ORMC:
            out.append(f"Pièce {ident} : TypPce doit valoir 15 (titre ORMC).")
        keys = piece_keys(
            code_collectivite=_v(head, "CodCol"),
            code_nature="",
            exercice=exer,
            periode=_v(bp, "Per"),
            dette=ident,
        )
        if _v(bp, "Cle2") != keys.cle2:
            out.append(f"Pièce {ident} : Cle2 fausse.")
        lines = piece.findall("LigneDePiece")
        debtors = set()
        for line in lines:
            amount = Decimal(_v(line, "BlocLignePiece/InfoLignePiece/MtHT"))
            if amount <= 0:
                out.append(f"Pièce {ident} : une ligne a un montant nul ou négatif.")
            total += amount
            sepa = line.find("BlocLignePiece/InfoPrelevementSEPA")
            if sepa is not None:
                if Decimal(_v(sepa, "MtPrel")) != amount:
                    out.append(f"Pièce {ident} : MtPrel différent du montant de la ligne.")
                if line.find("Tiers/CpteBancaire") is None:
                    out.append(f"Pièce {ident} : prélèvement sans compte bancaire du tiers.")
            tiers = line.find("Tiers/InfoTiers")
            debtors.add((_v(tiers, "Nom"), _v(tiers, "Prenom")))
        if len(debtors) != 1:
            out.append(f"Pièce {ident} : un titre ORMC n'a qu'un seul débiteur.")
    if Decimal(_v(bloc, "MtBordHt")) != total:
        out.append("MtBordHt différent de la somme des lignes.")
    return out


def check_cle1(xml_root, helios: HeliosSettings) -> list[str]:
    """Cle1 needs the rôle's nature, which the file does not carry."""
    out = []
    exer = int(_v(xml_root, "PES_RecetteAller/Bordereau/BlocBordereau/Exer"))
    for bp in xml_root.iter("BlocPiece"):
        keys = piece_keys(
            code_collectivite=helios.code_collectivite,
            code_nature=helios.code_nature,
            exercice=exer,
            periode=_v(bp, "Per"),
            dette=_v(bp, "NumDette"),
        )
        if _v(bp, "Cle1") != str(keys.cle1):
            out.append(f"Pièce {_v(bp, 'NumDette')} : Cle1 fausse.")
    return out


def piece_lines(lines: Sequence[tuple[str, Decimal]], balance: Decimal, number: str):
    """An invoice's lines for its title: one per prestation (sum of its days);
    when something was already paid, or a prestation sums to 0 € or less, one
    line « reste dû » for what is owed (a line of a title is never ≤ 0)."""
    grouped: dict[str, Decimal] = {}
    for label, amount in lines:
        grouped[label] = grouped.get(label, Decimal(0)) + amount
    total = sum(grouped.values(), Decimal(0))
    if total == balance and all(v > 0 for v in grouped.values()):
        return tuple(PieceLine(label, amount) for label, amount in grouped.items())
    return (PieceLine(f"Reste dû sur la facture {number}", balance),)
