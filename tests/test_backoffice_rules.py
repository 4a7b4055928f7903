"""Pure helpers of the configuration forms: the preview sentence."""

from datetime import date

import pytest

from tenants.service_rules import preview_sentence, rule_from_fields


@pytest.mark.parametrize(
    "rule, expected",
    [
        (
            {"rule": "days_before", "days": 7, "time": "23:59"},
            "jusqu'au mercredi 5 mars 2025 à 23:59",
        ),
        (
            {"rule": "days_before", "days": 3, "time": "23:59"},
            "jusqu'au dimanche 9 mars 2025 à 23:59",
        ),
        (
            {"rule": "weekday_previous_week", "weekday": "wednesday", "time": "23:59"},
            "jusqu'au mercredi 5 mars 2025",
        ),
        ({"rule": "hours_before", "hours": 72}, "jusqu'au samedi 8 mars 2025 à 23:59"),
        ({"rule": "none"}, "jamais en ligne"),
        ({"rule": "days_before"}, "Règle incomplète"),
    ],
)
def test_preview_sentence_for_wednesday_12_march_2025(rule, expected):
    text = preview_sentence(rule, date(2025, 3, 12))
    assert expected in text
    if "Règle" not in text:
        assert "mercredi 12 mars 2025" in text


def test_rule_from_fields_keeps_hidden_keys_of_the_same_rule_only():
    previous = {"rule": "working_days_before", "days": 5, "skip_weekdays": ["wednesday"]}
    assert rule_from_fields("working_days_before", {"days": 3, "time": ""}, previous) == {
        "rule": "working_days_before",
        "days": 3,
        "skip_weekdays": ["wednesday"],
    }
    assert rule_from_fields("days_before", {"days": 3, "time": "23:59"}, previous) == {
        "rule": "days_before",
        "days": 3,
        "time": "23:59",
    }
