"""`module_settings.billing`: JSON schema (apps.py) and parser (tariffs.py)."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import jsonschema
import pytest
import yaml

from modules.billing.apps import BILLING_SETTINGS_SCHEMA
from modules.billing.pricing import Attendance, TariffKind, price_session, simulate
from modules.billing.tariffs import (
    BillingConfigError,
    billing_settings_from_town_config,
    parse_billing_settings,
)

CONFIGS = Path(__file__).resolve().parents[3] / "tenant_configs"
TOWNS = ["bassens", "bondoufle", "castres", "chalonnes", "donges"]


def town(slug: str) -> dict:
    return yaml.safe_load((CONFIGS / f"{slug}.yaml").read_text(encoding="utf-8"))


def schema_errors(section) -> list[str]:
    validator = jsonschema.Draft202012Validator(BILLING_SETTINGS_SCHEMA)
    return [e.message for e in validator.iter_errors(section)]


@pytest.mark.parametrize("slug", TOWNS)
def test_each_town_has_valid_tariffs_for_every_service(slug):
    data = town(slug)
    section = data["module_settings"]["billing"]
    assert schema_errors(section) == []
    settings = billing_settings_from_town_config(data)
    # Every service of the town is priced, with its French name for the simulator.
    assert set(settings.services) == {s["code"] for s in data["services"]}
    for code, tariff in settings.services.items():
        assert tariff.label
        assert tariff.sessions_per_month > 0, code
    # ...and can be simulated for the current school year.
    sim = simulate(settings, day=date(2026, 11, 17), qf=740)
    assert not sim.unavailable
    assert all(s.line.amount > 0 for s in sim.services)


def test_castres_canteen_tariff_changed_on_2026_09_01():
    settings = billing_settings_from_town_config(town("castres"))
    canteen = settings.tariff("restauration-scolaire")
    assert [v.applies_from for v in canteen.versions] == [date(2025, 9, 1), date(2026, 9, 1)]
    before = price_session(canteen, day=date(2026, 6, 30), qf=740)
    after = price_session(canteen, day=date(2026, 9, 1), qf=740)
    assert (before.amount, after.amount) == (D("2.85"), D("2.90"))


def test_town_rules_apply_and_versions_override_them():
    settings = billing_settings_from_town_config(town("castres"))
    creche = settings.tariff("creche").versions[0]
    canteen = settings.tariff("restauration-scolaire").versions[0]
    assert canteen.absences.carence_days == 1  # from `rules`
    assert creche.absences.carence_days == 3  # the version's own
    assert creche.absences.unjustified_percent == 100  # merged from `rules`
    assert canteen.sibling_reductions == ((2, D(10)), (3, D(20)))
    assert creche.kind is TariffKind.EFFORT_RATE and creche.unit == "heure"


def test_the_example_of_the_brief_with_donges_tariffs():
    settings = billing_settings_from_town_config(town("donges"))
    got = price_session(
        settings.tariff("restauration-scolaire"), day=date(2026, 11, 17), qf=740, child_rank=2
    )
    assert got.explanation == "QF 740 € → tranche 2 (601–900 €) : 3,20 € ; 2e enfant −10 % : 2,88 €"
    sick = price_session(
        settings.tariff("multi-accueil-regulier"),
        day=date(2026, 11, 19),
        qf=740,
        attendance=Attendance.ILLNESS,
        illness_start=date(2026, 11, 17),
        quantity=8,
    )
    assert sick.amount == D("14.80")  # 3rd carence day of 3: 8 h × 1,85 €


BASE = {
    "services": {
        "cantine": {"versions": [{"applies_from": "2026-09-01", "kind": "flat", "price": 3.2}]},
    }
}


def with_version(**changes):
    section = copy.deepcopy(BASE)
    section["services"]["cantine"]["versions"][0].update(changes)
    return section


@pytest.mark.parametrize(
    "section,fragment",
    [
        ({}, "'services' is a required property"),
        ({"services": {"Cantine": {"versions": []}}}, "does not match"),
        (with_version(applies_from="1/9/2026"), "does not match"),
        (with_version(kind="forfait"), "is not one of"),
        (with_version(kind="grid"), "'grid' is a required property"),
        (with_version(kind="effort_rate"), "'rate_percent' is a required property"),
        (with_version(price=-1), "less than the minimum"),
        (with_version(sibling_reductions={"1": 10}), "does not match"),
        (with_version(absences={"carence_days": 2, "autre": 1}), "Additional properties"),
        (with_version(non_resident_surcharge_percent=500), "greater than the maximum"),
    ],
)
def test_schema_refuses(section, fragment):
    assert any(fragment in e for e in schema_errors(section)), schema_errors(section)


@pytest.mark.parametrize(
    "changes,fragment",
    [
        (dict(price=3.205), "deux décimales au plus"),
        (dict(applies_from="2026-02-30"), "« 2026-02-30 » n'est pas une date"),
        (
            dict(
                kind="grid",
                grid=[{"up_to": 900, "price": 1}, {"up_to": 600, "price": 2}, {"price": 3}],
            ),
            "croissantes",
        ),
        (dict(kind="grid", grid=[{"up_to": 900, "price": 1}]), "dernière tranche"),
        (dict(kind="effort_rate", rate_percent=1, floor=9, ceiling=4), "plancher"),
        (dict(sibling_reductions={1: 10}), "rang"),
    ],
)
def test_parser_refuses_with_french_messages(changes, fragment):
    with pytest.raises(BillingConfigError) as exc:
        parse_billing_settings(with_version(**changes))
    [problem] = exc.value.problems
    assert problem.startswith("module_settings.billing.services.cantine.versions[0] : ")
    assert fragment in problem


def test_parser_refuses_unknown_services_and_duplicate_dates():
    section = copy.deepcopy(BASE)
    version = section["services"]["cantine"]["versions"][0]
    section["services"]["cantine"]["versions"].append(dict(version))
    section["services"]["piscine"] = copy.deepcopy(BASE["services"]["cantine"])
    with pytest.raises(BillingConfigError) as exc:
        parse_billing_settings(section, service_names={"cantine": "Cantine"})
    assert exc.value.problems == [
        "module_settings.billing.services.cantine : Les versions du tarif « cantine » doivent "
        "avoir des dates d'application distinctes, dans l'ordre.",
        "module_settings.billing.services.piscine : service « piscine » inconnu "
        "(voir la section `services`).",
    ]


def test_yaml_floats_become_the_decimal_the_operator_wrote():
    settings = parse_billing_settings(with_version(price=2.85))
    assert settings.tariff("cantine").versions[0].price == D("2.85")


def test_parses_from_the_stored_commune_config_too():
    # Commune.config is the YAML through JSON: rank keys become strings.
    import json

    data = json.loads(json.dumps(town("bondoufle")))
    settings = billing_settings_from_town_config(data)
    version = settings.tariff("alsh-mercredi").versions[0]
    assert version.sibling_reductions == ((2, D(5)), (3, D(10)))


@pytest.mark.django_db
def test_onboarding_validation_reports_billing_problems_in_french():
    from tenants.config import ConfigError, validate

    data = town("castres")
    data["module_settings"]["billing"]["services"]["creche"]["versions"][0]["kind"] = "forfait"
    del data["module_settings"]["billing"]["services"]["etudes-dirigees"]["versions"][0]["price"]
    with pytest.raises(ConfigError) as exc:
        validate(data, source="castres.yaml")
    messages = [str(p) for p in exc.value.problems]
    assert (
        "module_settings.billing.services.etudes-dirigees.versions[0].price : "
        "clé obligatoire manquante."
    ) in messages
    assert any(
        m.startswith(
            "module_settings.billing.services.creche.versions[0].kind : "
            "« forfait » n'est pas permis"
        )
        for m in messages
    )
