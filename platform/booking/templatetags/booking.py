"""French dates in templates, independent of the OS locale (booking.french)."""

from datetime import date, datetime

from django import template

from booking.french import WEEKDAYS, format_date, format_datetime

register = template.Library()


@register.filter
def jour(value):
    """date -> "mercredi 17 mars 2027"."""
    return format_date(value) if isinstance(value, date) else ""


@register.filter
def jour_court(value):
    """date -> "mer. 17/03"."""
    if not isinstance(value, date):
        return ""
    return f"{WEEKDAYS[value.weekday()][:3]}. {value:%d/%m}"


@register.filter
def moment(value):
    return format_datetime(value) if isinstance(value, datetime) else ""


@register.filter
def iso(value):
    return value.isoformat() if isinstance(value, date) else ""


@register.filter
def prix(value):
    """Decimal -> "2,10 €" (narrow no-break space for thousands, no-break before €)."""
    if value is None or value == "":
        return ""
    text = f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0€"
