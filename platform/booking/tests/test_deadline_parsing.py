"""`deadlines` sections of the YAML -> typed rules; bad sections -> French errors."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.conf import settings

from booking.deadlines import (
    DayOfPreviousMonth,
    DaysBefore,
    DeadlineConfigError,
    HoursBefore,
    NotOnline,
    ServiceDeadlines,
    WeekdayPreviousWeek,
    WeeksBeforeSession,
    WorkingDaysBefore,
    describe_rule,
    parse_deadlines,
    parse_rule,
)

YAMLS = sorted(Path(settings.TENANT_CONFIGS_DIR).glob("*.yaml"))


def _services():
    for path in YAMLS:
        for service in yaml.safe_load(path.read_text(encoding="utf-8"))["services"]:
            yield pytest.param(path.stem, service, id=f"{path.stem}-{service['code']}")


def test_the_five_launch_towns_are_there():
    assert {p.stem for p in YAMLS} >= {"bassens", "bondoufle", "castres", "chalonnes", "donges"}


@pytest.mark.parametrize(("town", "service"), list(_services()))
def test_every_service_of_every_town_parses(town, service):
    if "deadlines" not in service:  # hourly crèche slots may have none (tenants.config)
        pytest.skip("service without deadlines")
    rules = parse_deadlines(service["deadlines"])
    assert isinstance(rules, ServiceDeadlines)
    assert describe_rule(rules.booking)


def test_launch_towns_rules_are_what_their_guides_say():
    def rules(slug, code):
        data = yaml.safe_load((settings.TENANT_CONFIGS_DIR / f"{slug}.yaml").read_text())
        return parse_deadlines(next(s for s in data["services"] if s["code"] == code)["deadlines"])

    assert rules("castres", "restauration-scolaire").booking == DaysBefore(7, time(23, 59))
    assert rules("bondoufle", "alsh-mercredi").booking == WeekdayPreviousWeek(2, time(23, 59))
    assert rules("bondoufle", "alsh-vacances").booking == WeeksBeforeSession(4, time(23, 59))
    assert rules("chalonnes", "aps").booking == HoursBefore(72)
    bassens = rules("bassens", "restauration-scolaire")
    assert bassens.windows_only and bassens.booking == DaysBefore(7)


PARSED = [
    ({"rule": "days_before", "days": 7}, DaysBefore(7, time(23, 59))),
    ({"rule": "days_before", "days": 0, "time": "10:00"}, DaysBefore(0, time(10, 0))),
    ({"rule": "hours_before", "hours": 72}, HoursBefore(72)),
    (
        {"rule": "working_days_before", "days": 16, "skip_weekdays": ["wednesday", "saturday"]},
        WorkingDaysBefore(16, time(23, 59), frozenset({2, 5})),
    ),
    (
        {"rule": "weekday_previous_week", "weekday": "sunday", "time": "18:30"},
        WeekdayPreviousWeek(6, time(18, 30)),
    ),
    ({"rule": "day_of_previous_month", "day": 20}, DayOfPreviousMonth(20)),
    ({"rule": "weeks_before_session", "weeks": 4}, WeeksBeforeSession(4)),
    ({"rule": "none"}, NotOnline()),
]


@pytest.mark.parametrize(("data", "rule"), PARSED)
def test_parse_each_rule_kind(data, rule):
    assert parse_rule(data) == rule


def test_parse_whole_section():
    rules = parse_deadlines(
        {
            "booking": {"rule": "days_before", "days": 2, "time": "10:00"},
            "cancellation": {"rule": "none"},
            "windows_only": True,
            "max_advance_days": 90,
        }
    )
    assert rules == ServiceDeadlines(
        booking=DaysBefore(2, time(10, 0)),
        cancellation=NotOnline(),
        windows_only=True,
        max_advance_days=90,
        separate_cancellation=True,
    )


BAD = [
    ({"booking": {"rule": "la_veille"}}, "deadlines.booking.rule", "n'est pas une règle connue"),
    ({"booking": {"rule": "days_before"}}, "deadlines.booking.days", "clé obligatoire manquante"),
    (
        {"booking": {"rule": "days_before", "days": 7, "time": "24:00"}},
        "deadlines.booking.time",
        "n'est pas une heure",
    ),
    (
        {"booking": {"rule": "days_before", "days": 7, "time": "9h"}},
        "deadlines.booking.time",
        "n'est pas une heure",
    ),
    ({"booking": {"rule": "days_before", "days": -1}}, "deadlines.booking", "entre 0 et 365"),
    ({"booking": {"rule": "days_before", "days": "7"}}, "deadlines.booking", "nombre entier"),
    ({"booking": {"rule": "days_before", "days": True}}, "deadlines.booking", "nombre entier"),
    (
        {"booking": {"rule": "hours_before", "hours": 72, "time": "10:00"}},
        "deadlines.booking.time",
        "clé inconnue",
    ),
    (
        {"booking": {"rule": "weekday_previous_week", "weekday": "mercredi"}},
        "deadlines.booking.weekday",
        "n'est pas un jour",
    ),
    (
        {"booking": {"rule": "day_of_previous_month", "day": 31}},
        "deadlines.booking",
        "entre 1 et 28",
    ),
    (
        {
            "booking": {
                "rule": "working_days_before",
                "days": 3,
                "skip_weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            }
        },
        "deadlines.booking",
        "aucun jour ne compterait",
    ),
    (
        {"booking": {"rule": "none"}, "cancellation": {"rule": "weeks_before_session", "weeks": 0}},
        "deadlines.cancellation",
        "entre 1 et 26",
    ),
    ({}, "deadlines.booking", "clé obligatoire manquante"),
    ({"booking": {"rule": "none"}, "delai": 3}, "deadlines.delai", "clé inconnue"),
    (
        {"booking": {"rule": "none"}, "windows_only": "oui"},
        "deadlines.windows_only",
        "true ou false",
    ),
    (
        {"booking": {"rule": "none"}, "max_advance_days": 0},
        "deadlines.max_advance_days",
        "entre 1 et 730",
    ),
    ("7 jours", "deadlines", "doit être un objet"),
]


@pytest.mark.parametrize(("data", "key", "message"), BAD)
def test_bad_sections_give_a_french_message_with_the_key(data, key, message):
    with pytest.raises(DeadlineConfigError) as exc:
        parse_deadlines(data)
    assert exc.value.key == key
    assert message in exc.value.message


def _schema_validator():
    schema = json.loads((Path(settings.TENANT_CONFIGS_DIR) / "schema.json").read_text())
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/deadlines", "$defs": schema["$defs"]})


@pytest.mark.parametrize(("data", "rule"), PARSED)
def test_what_parses_is_valid_for_the_json_schema(data, rule):
    assert not list(_schema_validator().iter_errors({"booking": data}))


@pytest.mark.parametrize(
    ("data", "key", "message"), [b for b in BAD if b[2] != "aucun jour ne compterait"]
)
def test_what_the_json_schema_refuses_does_not_parse(data, key, message):
    # Same contract as tenant_configs/schema.json (checked at onboarding); the one
    # rule only the code knows is a skip_weekdays list that leaves no working day.
    assert list(_schema_validator().iter_errors(data))


def test_describe_every_kind_in_french():
    assert describe_rule(DaysBefore(7)) == "au plus tard 7 jours avant, à 23:59"
    assert describe_rule(DaysBefore(1)) == "au plus tard la veille à 23:59"
    assert describe_rule(DaysBefore(0, time(10, 0))) == "au plus tard le jour même à 10:00"
    assert describe_rule(HoursBefore(72)) == "au plus tard 72 heures avant le début de la journée"
    assert describe_rule(WorkingDaysBefore(16, skip_weekdays=frozenset({2}))) == (
        "au plus tard 16 jours ouvrés avant, à 23:59 (hors week-ends, jours fériés, mercredis)"
    )
    assert describe_rule(WeekdayPreviousWeek(2)) == (
        "au plus tard le mercredi de la semaine précédente à 23:59"
    )
    assert describe_rule(DayOfPreviousMonth(1)) == "au plus tard le 1er du mois précédent à 23:59"
    assert describe_rule(WeeksBeforeSession(4)) == (
        "au plus tard 4 semaines avant le premier jour de la session de vacances, à 23:59"
    )
    assert describe_rule(NotOnline()) == "jamais en ligne : contactez le service"
