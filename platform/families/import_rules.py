"""Reading a previous portal's files: the documented format (docs/import/format.md),
mapping presets, and the check of every cell. Pure functions, no database:
`families.imports` applies them in transactions.

One file per entity (households, legal representatives, children, health sheets,
authorised persons, quotients familiaux). A file is CSV (UTF-8 with or without
BOM, or Windows-1252; separator `;`, `,` or tab, found from the header line) or
XLSX (first sheet, read in streaming mode). Each refused line gets a French
reason naming the file, the line, the column and the value.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from families.validators import normalize_phone

# --- the documented format ----------------------------------------------------

TEXT, DATE, BOOL, INT, EMAIL, PHONE, POSTCODE, CHOICE, IDS, AMOUNT = (
    "text",
    "date",
    "bool",
    "int",
    "email",
    "phone",
    "postcode",
    "choice",
    "ids",
    "amount",
)


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str = TEXT
    required: bool = False
    max_length: int = 255
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()  # code, accepted spellings


@dataclass(frozen=True)
class Entity:
    code: str
    label: str  # « foyers »
    key: str  # the column holding the source's identifier
    columns: tuple[Column, ...]
    parent: str = ""  # entity whose identifiers `parent_column` refers to
    parent_column: str = ""
    # Checks across a line's cells, contributed with the entity (pure):
    # rules(values, today) -> [(column, French reason)]; may normalise `values`.
    rules: object = field(default=None, compare=False, hash=False, repr=False)
    # A contributed file's own mapping presets: preset -> {header: column}.
    presets: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    by_name: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self):
        self.by_name.update({c.name: c for c in self.columns})

    def column(self, name: str) -> Column | None:
        return self.by_name.get(name)


_REGIMES = (
    ("caf", ("caf",)),
    ("msa", ("msa",)),
    ("none", ("aucun", "non allocataire", "none", "sans", "autre")),
)
_SEXES = (("F", ("f", "fille", "feminin", "2")), ("M", ("m", "garcon", "masculin", "1")))
_DIETS = (
    ("standard", ("standard", "aucun", "sans", "normal", "")),
    ("sans_viande", ("sans viande", "sans_viande", "vegetarien")),
    ("medical", ("medical", "pai", "regime medical")),
)
_QF_SOURCES = (
    ("caf", ("caf",)),
    ("msa", ("msa",)),
    ("avis_imposition", ("avis d'imposition", "avis_imposition", "impots", "mairie")),
)

ENTITIES: dict[str, Entity] = {
    e.code: e
    for e in (
        Entity(
            "foyers",
            "foyers",
            "id_foyer",
            (
                Column("id_foyer", "identifiant du foyer", required=True, max_length=64),
                Column("nom_foyer", "nom du foyer", required=True, max_length=160),
                Column("adresse", "adresse"),
                Column("code_postal", "code postal", POSTCODE),
                Column("commune", "commune", max_length=120),
                Column("regime", "régime allocataire", CHOICE, choices=_REGIMES),
                Column("numero_allocataire", "numéro d'allocataire", max_length=13),
            ),
        ),
        Entity(
            "responsables",
            "responsables légaux",
            "id_responsable",
            (
                Column(
                    "id_responsable", "identifiant du responsable", required=True, max_length=64
                ),
                Column("id_foyer", "identifiant du foyer", required=True, max_length=64),
                Column("prenom", "prénom", required=True, max_length=80),
                Column("nom", "nom", required=True, max_length=80),
                Column("email", "e-mail", EMAIL, max_length=254),
                Column("telephone", "téléphone", PHONE),
                Column("payeur", "payeur", BOOL),
            ),
            parent="foyers",
            parent_column="id_foyer",
        ),
        Entity(
            "enfants",
            "enfants",
            "id_enfant",
            (
                Column("id_enfant", "identifiant de l'enfant", required=True, max_length=64),
                Column("id_foyer", "identifiant du foyer", required=True, max_length=64),
                Column("prenom", "prénom", required=True, max_length=80),
                Column("nom", "nom", required=True, max_length=80),
                Column("date_naissance", "date de naissance", DATE, required=True),
                Column("sexe", "sexe", CHOICE, choices=_SEXES),
                Column("ecole", "école", max_length=120),
                Column("classe", "classe", max_length=30),
                Column("responsables", "responsables légaux", IDS, max_length=200),
            ),
            parent="foyers",
            parent_column="id_foyer",
        ),
        Entity(
            "sante",
            "fiches sanitaires, santé et PAI",
            "id_enfant",
            (
                Column("id_enfant", "identifiant de l'enfant", required=True, max_length=64),
                Column("allergies", "allergies", max_length=2000),
                Column("regime_alimentaire", "régime alimentaire", CHOICE, choices=_DIETS),
                Column("pai", "PAI", BOOL),
                Column("pai_details", "précisions sur le PAI", max_length=2000),
                Column("vaccinations_a_jour", "vaccinations à jour", BOOL),
                Column("medecin", "médecin traitant", max_length=120),
                Column("telephone_medecin", "téléphone du médecin", PHONE),
                Column("photo", "autorisation de photographier", BOOL),
                Column("part_seul", "autorisation de partir seul", BOOL),
                Column("transport", "autorisation de transport", BOOL),
                Column("soins_urgence", "intervention médicale d'urgence", BOOL),
            ),
            parent="enfants",
            parent_column="id_enfant",
        ),
        Entity(
            "personnes_autorisees",
            "personnes autorisées",
            "id_personne",
            (
                Column("id_personne", "identifiant de la personne", required=True, max_length=64),
                Column("id_foyer", "identifiant du foyer", required=True, max_length=64),
                Column("prenom", "prénom", required=True, max_length=80),
                Column("nom", "nom", required=True, max_length=80),
                Column("lien", "lien avec l'enfant", max_length=60),
                Column("telephone", "téléphone", PHONE, required=True),
                Column("peut_venir_chercher", "autorisée à venir chercher l'enfant", BOOL),
                Column("a_prevenir", "à prévenir en cas d'urgence", BOOL),
            ),
            parent="foyers",
            parent_column="id_foyer",
        ),
        Entity(
            "quotients",
            "quotients familiaux",
            "id_foyer",
            (
                Column("id_foyer", "identifiant du foyer", required=True, max_length=64),
                Column("quotient_familial", "quotient familial", INT, required=True),
                Column("source", "source du quotient", CHOICE, choices=_QF_SOURCES),
                Column("date_justificatif", "date du justificatif", DATE),
            ),
            parent="foyers",
            parent_column="id_foyer",
        ),
    )
}
# The order files are applied in: a child needs its household first.
ORDER = ("foyers", "responsables", "enfants", "sante", "personnes_autorisees", "quotients")
MAX_QUOTIENT = 100_000

# --- mapping presets ---------------------------------------------------------
# A preset renames the previous portal's column headers to ours (headers are
# compared once normalised: lower case, no accents, `_` for spaces). Sources and
# what could not be found: docs/import/presets.md.

PRESETS: dict[str, dict[str, dict[str, str]]] = {
    "guichet": {},
    # Noethys / Noethysweb (free software, GPL): its database schema is public
    # (noethysweb/core/models.py). Exports from its lists keep the field names.
    "noethys": {
        "foyers": {
            "idfamille": "id_foyer",
            "nom": "nom_foyer",
            "rue_resid": "adresse",
            "cp_resid": "code_postal",
            "ville_resid": "commune",
            "num_allocataire": "numero_allocataire",
            "caisse": "regime",
        },
        "responsables": {
            "idindividu": "id_responsable",
            "idfamille": "id_foyer",
            "mail": "email",
            "tel_mobile": "telephone",
            "titulaire": "payeur",
        },
        "enfants": {
            "idindividu": "id_enfant",
            "idfamille": "id_foyer",
            "date_naiss": "date_naissance",
            "idcivilite": "sexe",
        },
        "sante": {"idindividu": "id_enfant", "medecin_nom": "medecin"},
        "personnes_autorisees": {
            "idindividu": "id_personne",
            "idfamille": "id_foyer",
            "tel_mobile": "telephone",
            "lien_parente": "lien",
            "autorisation_sortie": "peut_venir_chercher",
            "contact_urgence": "a_prevenir",
        },
        "quotients": {
            "idfamille": "id_foyer",
            "quotient": "quotient_familial",
            "date_debut": "date_justificatif",
        },
    },
    # A generic French spreadsheet as staff type it by hand (« Nom », « Prénom »,
    # « Date de naissance », « Code postal »...): the most common case found.
    "tableur": {
        "foyers": {
            "identifiant": "id_foyer",
            "famille": "nom_foyer",
            "nom": "nom_foyer",
            "ville": "commune",
            "cp": "code_postal",
            "n_allocataire": "numero_allocataire",
            "numero_caf": "numero_allocataire",
        },
        "responsables": {
            "identifiant": "id_responsable",
            "famille": "id_foyer",
            "foyer": "id_foyer",
            "mail": "email",
            "courriel": "email",
            "portable": "telephone",
            "tel": "telephone",
        },
        "enfants": {
            "identifiant": "id_enfant",
            "famille": "id_foyer",
            "foyer": "id_foyer",
            "ne_le": "date_naissance",
            "nee_le": "date_naissance",
            "date_de_naissance": "date_naissance",
            "genre": "sexe",
        },
        "sante": {
            "identifiant": "id_enfant",
            "enfant": "id_enfant",
            "regime": "regime_alimentaire",
        },
        "personnes_autorisees": {
            "identifiant": "id_personne",
            "famille": "id_foyer",
            "foyer": "id_foyer",
            "tel": "telephone",
            "portable": "telephone",
        },
        "quotients": {
            "famille": "id_foyer",
            "foyer": "id_foyer",
            "qf": "quotient_familial",
            "quotient": "quotient_familial",
            "date": "date_justificatif",
        },
    },
}
PRESET_LABELS = {
    "guichet": "format Guichet Famille (documenté)",
    "noethys": "export Noethys",
    "tableur": "tableur saisi à la main (Nom, Prénom, Date de naissance…)",
}

# --- outcomes ------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    filename: str
    line: int  # 1 = the header line, as a spreadsheet numbers it
    column: str  # the header as written in the file ("" for the whole line)
    value: str
    reason: str

    @classmethod
    def at(
        cls, checked: FileCheck, row: Row, column: str, reason: str, value: str | None = None
    ) -> Refusal:
        """`row` of `checked`'s file refused for its canonical `column` (named as
        the file writes it), showing the row's value unless `value` is given."""
        if value is None:
            value = str(row.values.get(column) or "")
        return cls(checked.filename, row.line, checked.headers.get(column, column), value, reason)

    def text(self) -> str:
        where = f"{self.filename}, ligne {self.line}"
        if self.column:
            where += f", colonne « {self.column} »"
        if self.value:
            where += f", valeur « {_shown(self.value)} »"
        return f"{where} : {self.reason}"


@dataclass
class Row:
    line: int
    values: dict  # canonical column -> parsed value
    source_id: str
    fingerprint: str = ""


@dataclass
class FileCheck:
    """A file read and checked: the rows kept and the refusals (no database yet)."""

    entity: Entity
    filename: str
    rows: list[Row] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # canonical -> as written
    lines: int = 0


class FileProblem(Exception):
    """The whole file cannot be read (format, encoding, header): a French message."""


def _shown(value: str) -> str:
    value = "".join(c if c.isprintable() else "?" for c in value)
    return value if len(value) <= 60 else value[:57] + "…"


# --- reading the file -----------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


@functools.lru_cache(maxsize=8192)
def _normalized(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).translate(_ZERO_WIDTH)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().strip()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def normalize_header(raw) -> str:
    """'Date de naissance ' -> 'date_de_naissance' (headers, choices, booleans)."""
    return _normalized(str(raw or "")[:200])


# Control characters (Unicode Cc) and line/paragraph separators, new lines kept.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile("[ \u00a0\u202f]+")


def clean_text(raw) -> str:
    """NFC, no zero-width or control characters, inner spaces collapsed."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def _is_xlsx(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def read_rows(stream, filename: str) -> Iterator[tuple[int, list]]:
    """(line number, cells) for each line of a CSV or XLSX binary stream, the
    header first (line 1). Streams: never more than one line in memory."""
    head = stream.read(4)
    stream.seek(0)
    if _is_xlsx(head):
        yield from _xlsx_rows(stream)
    elif head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
        raise FileProblem(
            f"{filename} : fichier en UTF-16 ou binaire ; enregistrez-le en CSV UTF-8 ou en XLSX."
        )
    else:
        yield from _csv_rows(stream, filename)


def _xlsx_rows(stream):
    # openpyxl is heavy and only needed here (docs/architecture.md, decisions/1001).

    from openpyxl import load_workbook

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileProblem(
            "Ce fichier XLSX ne s'ouvre pas : enregistrez-le à nouveau depuis le tableur."
        ) from exc
    try:
        sheet = book.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        book.close()


def _csv_rows(stream, filename):
    raw_head = stream.read(65536)
    stream.seek(0)
    encoding = "utf-8-sig"
    try:
        raw_head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A cut in the middle of a multibyte character at the end of the sample is fine.
        if exc.start < len(raw_head) - 4:
            encoding = "cp1252"
    text = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")
    first = raw_head.decode(encoding, errors="replace").splitlines()[0] if raw_head else ""
    counts = {sep: first.count(sep) for sep in (";", ",", "\t")}
    delimiter = max(counts, key=counts.get) if any(counts.values()) else ";"
    reader = csv.reader(text, delimiter=delimiter)
    number = 0
    try:
        for cells in reader:
            number = reader.line_num
            yield number, cells
    except UnicodeDecodeError as exc:
        raise FileProblem(
            f"{filename} : caractère illisible après la ligne {number} ; "
            "enregistrez le fichier en UTF-8."
        ) from exc
    except csv.Error as exc:
        raise FileProblem(
            f"{filename}, ligne {number + 1} : ligne CSV mal formée ({exc})."
        ) from exc
    finally:
        text.detach()


# --- parsing one cell ----------------------------------------------------------

_DATE_PATTERNS = (
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), ("y", "m", "d")),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1 January 1900 (with Lotus' 29 Feb 1900)


def parse_date(raw) -> dt.date:
    """A date as found in files: 07/12/2026, 7-12-2026, 2026-12-07, an Excel
    serial number (46363) or a spreadsheet date cell. ValueError (French)."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return _from_serial(raw)
    text = unicodedata.normalize("NFKC", clean_text(raw))  # full-width digits -> ASCII
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _from_serial(float(text))
    for pattern, order in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            parts = dict(zip(order, map(int, match.groups()), strict=True))
            try:
                return dt.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                raise ValueError("cette date n'existe pas dans le calendrier") from None
    if re.fullmatch(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}", text):
        raise ValueError("année sur deux chiffres : écrivez l'année en entier (ex. 07/12/2019)")
    raise ValueError("date illisible : écrivez-la sous la forme JJ/MM/AAAA")


def _from_serial(number: float) -> dt.date:
    """Excel's 1900 date system: 1 = 1 January 1900, 60 = the 29 February 1900
    Lotus invented, 61 = 1 March 1900. A fraction is a time of day: dropped."""
    days = int(number)
    if not 1 <= days < 2958466:  # 9999-12-31
        raise ValueError("nombre de jours Excel hors limites")
    if days == 60:
        raise ValueError("le 29 février 1900 n'existe pas (date Excel)")
    if days < 60:
        return dt.date(1899, 12, 31) + dt.timedelta(days=days)
    return _EXCEL_EPOCH + dt.timedelta(days=days)


_TRUE = {"oui", "o", "1", "vrai", "x", "yes", "y", "true", "ok"}
_FALSE = {"non", "n", "0", "faux", "no", "false", "-"}


def parse_bool(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    text = normalize_header(raw).replace("_", " ")
    if text in _TRUE:
        return True
    if text in _FALSE or text == "":
        return False
    raise ValueError("répondez par oui ou non")


def parse_int(raw) -> int:
    if isinstance(raw, bool):
        raise ValueError("un nombre entier est attendu")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw.is_integer():
            return int(raw)
        raise ValueError("un nombre entier est attendu")
    text = unicodedata.normalize("NFKC", clean_text(raw)).replace(" ", "")
    text = re.sub(r",0+$|\.0+$", "", text)
    if not re.fullmatch(r"\d{1,9}", text):
        raise ValueError("un nombre entier est attendu")
    return int(text)


MAX_AMOUNT = Decimal("99999999.99")


def parse_amount(raw) -> Decimal:
    """« 1 234,56 € », « -12.5 », 42 -> Decimal with two places. ValueError (French)."""
    if isinstance(raw, bool):
        raise ValueError("un montant est attendu (ex. 123,45)")
    if isinstance(raw, int | float):
        text = repr(raw)
    else:
        text = unicodedata.normalize("NFKC", clean_text(raw))
        text = re.sub(r"[\s€]|eur(os?)?$", "", text, flags=re.IGNORECASE)
        text = text.replace("\u2212", "-")  # the minus sign of some spreadsheets
        if re.fullmatch(r"-?\d{1,3}(\.\d{3})+,\d{1,2}", text):
            text = text.replace(".", "")  # 1.234,56
        text = text.replace(",", ".")
    if not re.fullmatch(r"[-+]?\d+(\.\d{1,2})?", text):
        raise ValueError("un montant est attendu, deux décimales au plus (ex. 123,45)")
    value = Decimal(text).quantize(Decimal("0.01"))
    if abs(value) > MAX_AMOUNT:
        raise ValueError("montant trop grand")
    return value


def parse_choice(raw, choices) -> str:
    text = normalize_header(raw)
    for code, spellings in choices:
        if text == normalize_header(code) or any(text == normalize_header(s) for s in spellings):
            return code
    allowed = ", ".join(s[0] for _c, s in choices if s[0])
    raise ValueError(f"valeur inconnue ; valeurs possibles : {allowed}")


def parse_ids(raw) -> tuple[str, ...]:
    return tuple(p for p in (clean_text(x) for x in re.split(r"[|,;/]", clean_text(raw))) if p)


def parse_cell(column: Column, raw):
    """The value to store, or ValueError with the French reason."""
    if column.kind == DATE:
        return parse_date(raw)
    if column.kind == BOOL:
        return parse_bool(raw)
    if column.kind == INT:
        return parse_int(raw)
    if column.kind == CHOICE:
        return parse_choice(raw, column.choices)
    if column.kind == IDS:
        return parse_ids(raw)
    if column.kind == AMOUNT:
        return parse_amount(raw)
    text = clean_text(raw)
    if column.kind == EMAIL:
        text = text.lower()
        try:
            validate_email(text)
        except ValidationError:
            raise ValueError("adresse e-mail invalide") from None
    elif column.kind == PHONE:
        try:
            text = normalize_phone(text)
        except ValidationError:
            raise ValueError("numéro de téléphone invalide (10 chiffres attendus)") from None
    elif column.kind == POSTCODE:
        text = text.replace(" ", "")
        if re.fullmatch(r"\d{4}", text):
            text = "0" + text  # a spreadsheet ate the leading zero (01000 -> 1000)
        if not re.fullmatch(r"\d{5}", text):
            raise ValueError("le code postal doit comporter 5 chiffres")
    if len(text) > column.max_length:
        raise ValueError(f"texte trop long ({len(text)} caractères, {column.max_length} au plus)")
    return text


def _empty(raw) -> bool:
    return raw is None or (isinstance(raw, str) and clean_text(raw) == "")


# --- checking a whole file -------------------------------------------------------


def map_headers(entity: Entity, header_cells: list, preset: str, filename: str) -> dict[int, str]:
    """Column index -> canonical column; FileProblem when a required column is missing."""
    mapping = PRESETS.get(preset, {}).get(entity.code) or entity.presets.get(preset, {})
    found: dict[int, str] = {}
    for index, cell in enumerate(header_cells):
        name = normalize_header(cell)
        name = mapping.get(name, name)
        if entity.column(name) and name not in found.values():
            found[index] = name
    missing = [c.label for c in entity.columns if c.required and c.name not in found.values()]
    if missing:
        raise FileProblem(
            f"{filename} : colonne{'s' if len(missing) > 1 else ''} obligatoire"
            f"{'s' if len(missing) > 1 else ''} absente{'s' if len(missing) > 1 else ''} : "
            + ", ".join(missing)
            + " (voir le format documenté)."
        )
    return found


def check_file(
    entity: Entity, stream, filename: str, *, preset: str = "guichet", today: dt.date
) -> FileCheck:
    """Read and check every line; the rows are kept in memory as parsed values
    (a few hundred bytes each: 20,000 children stay well under 50 Mo)."""
    result = FileCheck(entity, filename)
    lines = read_rows(stream, filename)
    header = None
    for number, cells in lines:
        if all(_empty(c) for c in cells):
            continue
        header = (number, cells)
        break
    if header is None:
        raise FileProblem(f"{filename} : le fichier est vide.")
    mapping = map_headers(entity, header[1], preset, filename)
    result.headers = {name: clean_text(header[1][i]) for i, name in mapping.items()}
    seen: dict[str, int] = {}
    for number, cells in lines:
        if all(_empty(c) for c in cells):
            continue
        result.lines += 1
        row = check_row(entity, mapping, result.headers, number, cells, filename, today=today)
        if isinstance(row, list):
            result.refusals.extend(row)
            continue
        if row.source_id in seen:
            result.refusals.append(
                Refusal.at(
                    result,
                    row,
                    entity.key,
                    f"identifiant déjà présent ligne {seen[row.source_id]} du même fichier",
                )
            )
            continue
        seen[row.source_id] = number
        result.rows.append(row)
    return result


def check_row(entity, mapping, headers, number, cells, filename, *, today) -> Row | list[Refusal]:
    values: dict = {}
    refusals: list[Refusal] = []
    for index, name in mapping.items():
        column = entity.column(name)
        raw = cells[index] if index < len(cells) else None
        if _empty(raw):
            if column.required:
                refusals.append(
                    Refusal(filename, number, headers[name], "", f"{column.label} manquant")
                )
            continue
        try:
            values[name] = parse_cell(column, raw)
        except ValueError as exc:
            refusals.append(Refusal(filename, number, headers[name], clean_text(raw), str(exc)))
    refusals += _row_rules(entity, values, headers, number, filename, today)
    if refusals:
        return refusals
    return Row(number, values, values[entity.key], fingerprint(values))


def _row_rules(entity, values, headers, number, filename, today) -> list[Refusal]:
    """Checks across a line's cells and against today."""
    out = []

    def refuse(column, reason):
        value = values.get(column)
        if isinstance(value, dt.date):
            shown = value.strftime("%d/%m/%Y")
        elif isinstance(value, Decimal):
            shown = f"{value:.2f}".replace(".", ",")
        else:
            shown = str(value or "")
        out.append(Refusal(filename, number, headers.get(column, column), shown, reason))

    birth = values.get("date_naissance")
    if birth and birth > today:
        refuse("date_naissance", "date de naissance dans le futur")
    elif birth and birth.year < today.year - 30:
        refuse("date_naissance", "enfant de plus de 30 ans : date à vérifier")
    qf = values.get("quotient_familial")
    if qf is not None and qf > MAX_QUOTIENT:
        refuse(
            "quotient_familial",
            f"quotient familial au-delà de {MAX_QUOTIENT} : un revenu saisi à la place ?",
        )
    proof = values.get("date_justificatif")
    if proof and proof > today:
        refuse("date_justificatif", "date du justificatif dans le futur")
    number_ = values.get("numero_allocataire")
    if number_ and not re.fullmatch(r"[0-9A-Za-z]{4,13}", number_):
        refuse(
            "numero_allocataire",
            "numéro d'allocataire : de 4 à 13 chiffres ou lettres, sans espace",
        )
    if entity.rules is not None:
        for column, reason in entity.rules(values, today):
            refuse(column, reason)
    return out


def fingerprint(values: dict) -> str:
    """Same values -> same fingerprint: a re-import of an unchanged line changes nothing."""
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# --- likely duplicates (for staff to decide) -------------------------------------


def person_key(first_name: str, last_name: str, birth: dt.date | None = None) -> tuple:
    fold = lambda s: normalize_header(s).replace("_", " ")  # noqa: E731
    return (fold(first_name), fold(last_name), birth)


def find_duplicates(rows: Iterable[tuple[tuple, str]], existing: dict[tuple, str]) -> list[str]:
    """`rows`: (key, description); `existing`: key -> description of a record already
    in the town. Returns one French line per likely duplicate."""
    seen: dict[tuple, str] = dict(existing)
    out = []
    for key, description in rows:
        if key in seen:
            out.append(f"{description} ressemble à {seen[key]}")
        else:
            seen[key] = description
    return out


def template_csv(entity: Entity) -> str:
    """The header line of the documented format (downloadable blank file)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerow([c.name for c in entity.columns])
    return codecs.BOM_UTF8.decode() + buffer.getvalue()
