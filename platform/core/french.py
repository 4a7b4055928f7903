"""French for people, independent of the OS locale: dates, amounts, and the
town's words with their article (the `ui` template filters read these).

`strftime("%A")` follows the process locale (C/English on our servers), so the
names are spelled here: "samedi 1er mai 2027 à 08:30", "202,13 €".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

MONTHS_SHORT = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
NBSP = "\u00a0"  # between a number and its unit: "12,00 €"
NNBSP = "\u202f"  # French thousands separator (narrow no-break space)


def day_number(day: int) -> str:
    # French typography: the first of the month is an ordinal ("1er mai"), the others cardinal.
    return "1er" if day == 1 else str(day)


def format_date(d: date, *, weekday: bool = True) -> str:
    """date(2027, 3, 10) -> "mercredi 10 mars 2027" (or "10 mars 2027")."""
    if isinstance(d, datetime):
        d = d.date()
    text = f"{day_number(d.day)} {MONTHS[d.month - 1]} {d.year}"
    return f"{WEEKDAYS[d.weekday()]} {text}" if weekday else text


def format_datetime(dt: datetime, *, weekday: bool = True) -> str:
    """An aware datetime, shown in Paris wall-clock time: "mercredi 10 mars 2027 à 23:59"."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(PARIS)
    return f"{format_date(dt.date(), weekday=weekday)} à {dt:%H:%M}"


def format_short_date(d: date) -> str:
    """date(2026, 12, 7) -> "lun. 7 déc." (calendars, tables)."""
    if isinstance(d, datetime):
        d = d.date()
    return f"{WEEKDAYS[d.weekday()][:3]}. {day_number(d.day)} {MONTHS_SHORT[d.month - 1]}"


def format_number(value, places: int = 2) -> str:
    """Decimal("1234.5") -> "1 234,50" (narrow no-break space between thousands)."""
    amount = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{abs(amount):,.{places}f}".replace(",", NNBSP).replace(".", ",")
    return f"−{text}" if amount < 0 else text


def euros(value, space: str = NBSP) -> str:
    """3.2 -> "3,20 €"; 1234.5 -> "1 234,50 €" (display rounding only, a no-break
    space before €; `space=" "` for plain texts). None or text that is no number
    -> "" (a template never fails on it)."""
    if value is None or value == "":
        return ""
    try:
        return f"{format_number(Decimal(str(value)))}{space}€"
    except (InvalidOperation, ValueError, TypeError):
        return ""


# --- The town's words, with articles that agree ------------------------------

# Head words whose gender is feminine; anything else reads as masculine.
_FEMININE = {"clé", "cle", "carte", "référence", "reference", "attestation", "fiche"}
_VOWELS = "aeiouyhâàéèêëîïôöûüAEIOUYHÂÀÉÈÊËÎÏÔÖÛÜ"


@dataclass(frozen=True)
class Noun:
    """A town's word ("clé Enfance", "code personnel") and its articles:
    `noun.le` "le code personnel" / "la clé Enfance" / "l'identifiant",
    `noun.un` "un code personnel" / "une clé Enfance", `noun.du` "du code
    personnel" / "de la clé", `noun.ce` "ce code" / "cette clé", and
    `noun.nouveau` "nouveau code" / "nouvelle clé". str(noun) is the bare word."""

    word: str
    feminine: bool

    @classmethod
    def of(cls, word: str) -> Noun:
        word = (word or "").strip()
        head = word.split(" ")[0].lower() if word else ""
        return cls(word, head in _FEMININE)

    def __str__(self) -> str:
        return self.word

    @property
    def _elided(self) -> bool:
        return bool(self.word) and self.word[0] in _VOWELS

    @property
    def le(self) -> str:
        if self._elided:
            return f"l'{self.word}"
        return f"{'la' if self.feminine else 'le'} {self.word}"

    @property
    def un(self) -> str:
        return f"{'une' if self.feminine else 'un'} {self.word}"

    @property
    def du(self) -> str:
        if self._elided:
            return f"de l'{self.word}"
        return f"{'de la' if self.feminine else 'du'} {self.word}"

    @property
    def ce(self) -> str:
        if self.feminine:
            return f"cette {self.word}"
        return f"{'cet' if self._elided else 'ce'} {self.word}"

    @property
    def nouveau(self) -> str:
        if self.feminine:
            return f"nouvelle {self.word}"
        return f"{'nouvel' if self._elided else 'nouveau'} {self.word}"

    @property
    def Le(self) -> str:  # noqa: N802 - reads as the capitalised article in templates
        return _capital(self.le)

    @property
    def Un(self) -> str:  # noqa: N802
        return _capital(self.un)

    @property
    def capital(self) -> str:
        return _capital(self.word)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
