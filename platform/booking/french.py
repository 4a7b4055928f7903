"""French dates for families, independent of the OS locale.

`strftime("%A")` follows the process locale (C/English on our servers), so the
names are spelled here: "samedi 1er mai 2027 à 08:30".
"""

from __future__ import annotations

from datetime import date, datetime
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
