"""French display helpers for billing (dates, months): pure."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from booking.french import (
    MONTHS,  # one spelling of the months for the whole product
    format_date,
)


def month_label(year: int, month: int) -> str:
    """(2026, 11) -> 'novembre 2026'."""
    return f"{MONTHS[month - 1]} {year}"


def of_month(year: int, month: int) -> str:
    """'de novembre 2026', 'd'octobre 2026' (elision before a vowel)."""
    label = month_label(year, month)
    return f"d'{label}" if label[0] in "aeiouâéè" else f"de {label}"


def moment_label(moment: datetime) -> str:
    """'dimanche 8 novembre 2026 à 09:30' in the town's time zone (Europe/Paris)."""
    local = timezone.localtime(moment)
    return f"{format_date(local.date())} à {local:%H:%M}"


def long_day(day: date) -> str:
    """'lundi 7 décembre 2026'."""

    return format_date(day)
