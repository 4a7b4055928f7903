"""Which family changes need a staff validation (families.rules.change_mode)."""

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from families.rules import CHANGES, DEFAULT_POLICY, DIRECT, VALIDATION, change_mode
from tenants.config import parse_yaml

EXPECTED_DEFAULTS = {
    "contacts": DIRECT,
    "address": DIRECT,
    "entourage_add": DIRECT,
    "entourage_remove": DIRECT,
    "health_sheet": DIRECT,
    "quotient_familial": VALIDATION,
    "child_add": VALIDATION,
}


@pytest.mark.parametrize("change, mode", EXPECTED_DEFAULTS.items())
def test_defaults(change, mode):
    assert change_mode(change, None) == mode
    assert change_mode(change, {}) == mode


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("mode", [DIRECT, VALIDATION])
def test_a_town_setting_wins(change, mode):
    assert change_mode(change, {change: mode}) == mode


def test_an_unknown_value_is_the_safe_side():
    assert change_mode("address", {"address": "peut-être"}) == VALIDATION


def test_unknown_change_is_a_programming_error():
    with pytest.raises(KeyError):
        change_mode("religion", {})


def test_defaults_cover_every_change_of_the_schema():
    import json

    schema = json.loads((settings.TENANT_CONFIGS_DIR / "schema.json").read_text())
    assert set(schema["properties"]["family_changes"]["properties"]) == set(DEFAULT_POLICY)


@pytest.mark.parametrize("slug", ["bassens", "bondoufle", "castres", "chalonnes", "donges"])
def test_launch_towns(slug):
    """Chalonnes-sur-Loire's guide: families add entourage members but may not delete one."""
    path = settings.TENANT_CONFIGS_DIR / f"{slug}.yaml"
    town = parse_yaml(path.read_text(), source=slug).get("family_changes")
    removal = change_mode("entourage_remove", town)
    assert removal == (VALIDATION if slug == "chalonnes" else DIRECT)
    assert change_mode("entourage_add", town) == DIRECT


@given(st.dictionaries(st.sampled_from(CHANGES), st.sampled_from([DIRECT, VALIDATION, "x", ""])))
def test_always_one_of_two_modes(settings_):
    for change in CHANGES:
        assert change_mode(change, settings_) in (DIRECT, VALIDATION)
