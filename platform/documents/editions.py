"""Document editions (PDF, WeasyPrint): the summary of a family's data, the
town's booking rules, a child's registration certificate.

WeasyPrint never fetches anything: the only allowed URL scheme is `data:`
(no SSRF through a town's name or a family's address in the HTML).
Other apps add lines to the certificate with `register_certificate_lines`, and
list their rule documents in the booking rules with `register_rules_documents`
(the public space's règlements: content sits above documents).
"""

from __future__ import annotations

import io
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import salted_hmac
from pypdf import PdfWriter

from core import town_config
from documents.selectors import family_demandes, family_documents
from families.models import Adult, Child

_CERTIFICATE_SOURCES: list[Callable] = []
_RULES_DOCUMENTS: list[Callable] = []


def register_certificate_lines(source: Callable) -> None:
    """`source(child) -> list[str]`: e.g. the services a child is registered to."""
    _CERTIFICATE_SOURCES.append(source)


def register_rules_documents(source: Callable) -> None:
    """`source() -> iterable` of published rule documents (`title`, `service`,
    `updated_at`), listed in the town's booking rules: content's règlements."""
    if source not in _RULES_DOCUMENTS:
        _RULES_DOCUMENTS.append(source)


class EditionUnavailable(Exception):
    """WeasyPrint's system libraries (Pango, HarfBuzz) are missing on this server."""


def _html_class():
    try:
        # Heavy library (WeasyPrint, with Pango).
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: libpango not installed
        raise EditionUnavailable(str(exc)) from exc
    return HTML


def render_pdf(template: str, context: dict) -> bytes:
    html = render_to_string(template, {"now": timezone.localtime(), **context})
    return _html_class()(string=html, url_fetcher=_fetcher()).write_pdf()


def simple_pdf(title: str, paragraphs: list[str]) -> bytes:
    """A one-page PDF for demo files; a blank titled page when WeasyPrint is unavailable
    (the demo must run on a bare machine, docs/decisions/0003)."""
    try:
        return render_pdf(
            "documents/editions/simple.html", {"title": title, "paragraphs": paragraphs}
        )
    except EditionUnavailable:
        writer = PdfWriter()
        writer.add_blank_page(width=595, height=842)
        writer.add_metadata({"/Title": title})
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()


def _fetcher():
    try:
        # Heavy library (WeasyPrint, with Pango).
        from weasyprint.urls import URLFetcher

        return URLFetcher(allowed_protocols=["data"])
    except (ImportError, TypeError):  # WeasyPrint < 66 takes a function
        # Heavy library (WeasyPrint, with Pango).
        from weasyprint import default_url_fetcher

        def fetch(url, *args, **kwargs):
            if not url.startswith("data:"):
                raise ValueError("ressource externe refusée")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch


# --- the family's data ------------------------------------------------------------


_SKIPPED = {"id", "password", "household", "user"}


def describe_row(obj) -> list[tuple[str, str]]:
    """(French label, value) for every plain field of a row: fields other apps add
    to Household/Adult/Child appear in the summary without touching this file."""
    out = []
    for f in obj._meta.concrete_fields:
        if (
            f.name in _SKIPPED
            or f.is_relation
            or isinstance(f, (models.BinaryField, models.FileField))
        ):
            continue
        value = getattr(obj, f"get_{f.name}_display")() if f.choices else getattr(obj, f.attname)
        if value in (None, "", [], {}):
            continue
        if isinstance(value, bool):
            value = "oui" if value else "non"
        elif hasattr(value, "strftime"):
            value = value.strftime("%d/%m/%Y %H:%M" if hasattr(value, "hour") else "%d/%m/%Y")
        out.append((str(f.verbose_name).capitalize(), str(value)))
    return out


def family_summary(household, *, commune) -> bytes:
    adults = list(Adult.objects.filter(household=household).select_related("user"))
    children = list(Child.objects.filter(household=household))
    User = get_user_model()
    context = {
        "commune": commune,
        "household": describe_row(household),
        "adults": [(str(a), describe_row(a), a.user.email if a.user_id else "") for a in adults],
        "children": [(str(c), describe_row(c)) for c in children],
        "documents": family_documents(household),
        "demandes": family_demandes(household)[:30],
        "user_model": User,
    }
    return render_pdf("documents/editions/summary.html", context)


# --- the town's rules ---------------------------------------------------------------

_WEEKDAYS = {
    "monday": "lundi",
    "tuesday": "mardi",
    "wednesday": "mercredi",
    "thursday": "jeudi",
    "friday": "vendredi",
    "saturday": "samedi",
    "sunday": "dimanche",
}


def describe_deadline(rule: dict) -> str:
    """A deadline rule from tenant_configs/schema.json, in French (pure)."""
    kind = rule.get("rule")
    at = f" à {rule['time']}" if rule.get("time") else ""
    if kind == "days_before":
        days = rule["days"]
        if days == 0:
            return f"jusqu'au jour même{at}"
        return f"au plus tard {days} jour{'s' if days > 1 else ''} avant{at}"
    if kind == "hours_before":
        return f"au plus tard {rule['hours']} heures avant"
    if kind == "working_days_before":
        return f"au plus tard {rule['days']} jours ouvrés avant{at}"
    if kind == "weekday_previous_week":
        return f"au plus tard le {_WEEKDAYS[rule['weekday']]} de la semaine précédente{at}"
    if kind == "day_of_previous_month":
        return f"au plus tard le {rule['day']} du mois précédent{at}"
    if kind == "weeks_before_session":
        weeks = rule["weeks"]
        return (
            f"au plus tard {weeks} semaine{'s' if weeks > 1 else ''} avant le début "
            f"de la session{at}"
        )
    if kind == "none":
        return "sans délai"
    return "selon les conditions du service"


def town_rules(*, commune) -> bytes:
    services = []
    for s in town_config.services(modules=town_config.enabled_modules(commune)):
        d = s.deadlines or {}
        services.append(
            {
                "name": s.name,
                "booking": describe_deadline(d["booking"]) if "booking" in d else "",
                "cancellation": describe_deadline(d.get("cancellation") or d["booking"])
                if "booking" in d
                else "",
                "windows_only": d.get("windows_only", False),
            }
        )
    return render_pdf(
        "documents/editions/rules.html",
        {
            "commune": commune,
            "services": services,
            "reglements": [doc for source in _RULES_DOCUMENTS for doc in source()],
        },
    )


# --- registration certificate ---------------------------------------------------------


def certificate_reference(child, *, schema: str, day) -> str:
    """A short code the town can recompute to check a certificate it is shown."""
    return (
        salted_hmac("guichet-famille/attestation", f"{schema}:{child.pk}:{day:%Y%m%d}")
        .hexdigest()[:12]
        .upper()
    )


def registration_certificate(child, *, commune) -> bytes:
    today = timezone.localdate()
    lines = [line for source in _CERTIFICATE_SOURCES for line in source(child)]
    return render_pdf(
        "documents/editions/certificate.html",
        {
            "commune": commune,
            "child": child,
            "household": child.household,
            "today": today,
            "lines": lines,
            "reference": certificate_reference(child, schema=commune.schema_name, day=today),
        },
    )
