"""The design system's template helpers (`{% load ui %}`), docs/design-system.md.

Filters: `euros` (« 202,13 € »), `date_fr` (« lundi 7 décembre 2026 »),
`date_court` (« lun. 7 déc. »), `date_heure_fr` (« lundi 7 décembre 2026 à
08:30 »), `nombre` (« 1 234,5 »); the town's words with their article:
`{{ key_label|le }}` (« le code personnel », « la clé Enfance »), `|un`, `|du`,
`|ce`. Tag: `{% field form.x %}` renders one field with label, help, error
and the control, all with the component classes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.template.loader import render_to_string

from core.french import (
    PARIS,
    Noun,
    format_date,
    format_datetime,
    format_number,
    format_short_date,
)
from core.french import euros as _euros

register = template.Library()


@register.filter
def euros(value) -> str:
    """Decimal("202.13") -> "202,13 €" (no-break spaces); None -> ""."""
    return _euros(value)


@register.filter
def nombre(value, places=None) -> str:
    """1250 -> "1 250", Decimal("3.5") -> "3,50" (narrow no-break space between
    thousands; a whole number has no decimals unless `places` says so);
    None or text that is no number -> "". A quotient familial reads
    `{{ qf|nombre }}&nbsp;€`."""
    if value is None or value == "" or isinstance(value, bool):
        return ""
    try:
        number = Decimal(str(value))
        if places is None:
            places = 0 if number == number.to_integral_value() else 2
        return format_number(number, int(places))
    except (InvalidOperation, ValueError, TypeError):
        return ""


def _day(value):
    """A date, a datetime, or an ISO text ("2026-12-07", as the YAML keeps them)."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return value


@register.filter
def date_fr(value) -> str:
    """date -> "lundi 7 décembre 2026"; a datetime is read in Paris time."""
    value = _day(value)
    if isinstance(value, datetime):
        return format_datetime(value).split(" à ")[0]
    return format_date(value) if isinstance(value, date) else ""


@register.filter
def date_court(value) -> str:
    """date -> "lun. 7 déc."."""
    value = _day(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(PARIS)
    return format_short_date(value) if isinstance(value, date) else ""


@register.filter
def date_heure_fr(value) -> str:
    """aware datetime -> "lundi 7 décembre 2026 à 08:30" (Paris time)."""
    return format_datetime(value) if isinstance(value, datetime) else ""


def _noun(value) -> Noun:
    return value if isinstance(value, Noun) else Noun.of(str(value or ""))


@register.filter
def le(value) -> str:
    """ "code personnel" -> "le code personnel"; "clé Enfance" -> "la clé Enfance"."""
    return _noun(value).le


@register.filter
def un(value) -> str:
    """ "code personnel" -> "un code personnel"; "clé Enfance" -> "une clé Enfance"."""
    return _noun(value).un


@register.filter
def du(value) -> str:
    """ "code personnel" -> "du code personnel"; "clé" -> "de la clé"."""
    return _noun(value).du


@register.filter
def ce(value) -> str:
    """ "code personnel" -> "ce code personnel"; "clé" -> "cette clé"."""
    return _noun(value).ce


@register.filter
def capfirst_fr(value) -> str:
    text = str(value or "")
    return text[:1].upper() + text[1:]


@register.simple_tag
def field(bound_field, mark_required=False, css=""):
    """`{% field form.email %}`: label, help, errors and the control of one
    field (ui/field.html, the same template `{{ form }}` uses for each field).
    `mark_required=True` writes « (obligatoire) » after a required field's label;
    `css` adds classes on the wrapper (e.g. "field--inline")."""
    if bound_field is None or bound_field == "":
        return ""
    return render_to_string(
        "ui/field.html", {"field": bound_field, "mark_required": mark_required, "css": css}
    )


@register.simple_tag
def file_pick(name, id, accept="", required=False, multiple=False, **attrs):
    """`{% file_pick "doc-x" "doc-castres-x" accept=".pdf,.jpg" required=True %}`:
    a file chooser written by hand, the same component Django's file widgets
    render (ui/file_pick.html). Other keyword arguments become attributes
    (`aria_label="…"` -> `aria-label="…"`)."""
    widget_attrs = {"class": "file", "id": id}
    if accept:
        widget_attrs["accept"] = accept
    if required:
        widget_attrs["required"] = True
    if multiple:
        widget_attrs["multiple"] = True
    widget_attrs.update({key.replace("_", "-"): value for key, value in attrs.items()})
    return render_to_string("ui/file_pick.html", {"widget": {"name": name, "attrs": widget_attrs}})


@register.filter
def pluriel(count, suffix: str = "s") -> str:
    """French plural mark: « 0 mise à jour », « 1 ligne », « 2 lignes » (Django's
    `pluralize` writes « 0 mises à jour »)."""
    try:
        return suffix if abs(int(count)) >= 2 else ""
    except (TypeError, ValueError):
        return ""
