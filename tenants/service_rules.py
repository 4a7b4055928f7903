"""Pure helpers of the back-office's configuration forms (no ORM, no request)."""

from __future__ import annotations

from datetime import date

from booking.deadlines import (
    WEEKDAY_CODES,
    DeadlineConfigError,
    describe_rule,
    limit_for,
    parse_rule,
)
from booking.french import format_date, format_datetime
from booking.holidays_fr import FRANCE

RULE_FIELDS = {
    # rule kind: fields of the form it uses (besides `rule`)
    "days_before": ("days", "time"),
    "hours_before": ("hours",),
    "working_days_before": ("days", "time"),
    "weekday_previous_week": ("weekday", "time"),
    "day_of_previous_month": ("day", "time"),
    "weeks_before_session": ("weeks", "time"),
    "none": (),
}


def rule_from_fields(kind: str, values: dict, previous: dict | None = None) -> dict:
    """The YAML rule dict from the form's fields. Keys the form does not show
    (e.g. `skip_weekdays`) are kept from the rule in force when the kind is unchanged."""
    rule: dict = {"rule": kind}
    for name in RULE_FIELDS.get(kind, ()):
        value = values.get(name)
        if value in (None, ""):
            continue
        rule[name] = value
    if previous and previous.get("rule") == kind:
        for key, value in previous.items():
            rule.setdefault(key, value)
    return rule


def preview_sentence(
    rule_data: dict, day: date, *, holidays=FRANCE, session_start: date | None = None
) -> str:
    """« Avec cette règle, une réservation pour le mercredi 12 mars 2025 est
    possible jusqu'au mercredi 5 mars 2025 à 23:59. » or the French problem."""
    try:
        rule = parse_rule(rule_data)
    except DeadlineConfigError as exc:
        return f"Règle incomplète : {exc.message}"
    limit = limit_for(rule, day, holidays=holidays, session_start=session_start)
    when = format_date(day)
    if limit is None:
        return (
            f"Avec cette règle, une réservation pour le {when} ne se fait jamais en ligne : "
            "la famille contacte le service."
        )
    return (
        f"Avec cette règle ({describe_rule(rule)}), une réservation pour le {when} "
        f"est possible jusqu'au {format_datetime(limit)}."
    )


WEEKDAY_CHOICES = [
    (code, label)
    for code, label in zip(
        WEEKDAY_CODES,
        ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
        strict=True,
    )
]


def problems_by_prefix(problems, prefix: str) -> list[tuple[str, str]]:
    """(key without the prefix, message) of the problems under `prefix`."""
    out = []
    for p in problems:
        if p.key == prefix or p.key.startswith(prefix + ".") or p.key.startswith(prefix + "["):
            out.append((p.key[len(prefix) :].lstrip("."), p.message))
    return out


def new_service(*, code: str, kind: str, name: str, site: dict, rule: dict) -> dict:
    """A new service's entry in `services` (one site, one booking rule): the shape
    a town's YAML gives, built by the back-office and the operator's onboarding form."""
    return {
        "code": code,
        "kind": kind,
        "name": name,
        "options": {"sites": [site]},
        "deadlines": {"booking": rule},
    }
