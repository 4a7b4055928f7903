"""Onboarding a town from tenant_configs/<slug>.yaml: validation, all-or-nothing, idempotence."""

import time
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core.models import Contact, Service
from modules.billing.models import PaymentSettings
from tenants.config import ConfigError, validate
from tenants.models import Commune, Domain
from tenants.onboarding import onboard_files

CONFIGS = settings.TENANT_CONFIGS_DIR
LAUNCH_TOWNS = ["bassens", "bondoufle", "castres", "chalonnes", "donges"]


def base_config(**overrides):
    data = yaml.safe_load((CONFIGS / "castres.yaml").read_text())
    data.update(slug="saint-test", name="Saint-Test", insee_code="99001", aliases=[])
    data.update(overrides)
    return data


def write(tmp_path: Path, data, name="saint-test.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True) if not isinstance(data, str) else data)
    return path


def snapshot():
    connection.set_schema_to_public()
    with connection.cursor() as c:
        c.execute("SELECT nspname FROM pg_namespace ORDER BY 1")
        schemas = [r[0] for r in c.fetchall()]
    return (
        list(Commune.objects.values_list("slug", "name", "config_digest").order_by("slug")),
        list(Domain.objects.values_list("domain", "tenant__slug").order_by("domain")),
        schemas,
    )


@pytest.mark.parametrize("slug", LAUNCH_TOWNS)
def test_every_launch_town_file_is_valid(slug, db):
    from tenants.config import load_file

    cfg = load_file(CONFIGS / f"{slug}.yaml")
    assert cfg.slug == slug


def test_onboarding_creates_schema_contacts_services_and_payment(tmp_path, db, in_town):
    started = time.perf_counter()
    [result] = onboard_files([write(tmp_path, base_config())])
    elapsed = time.perf_counter() - started
    print(f"\nonboarding a new town: {elapsed:.2f} s")
    assert result.created  # timing is measured by bench/tenant_create.py, not asserted here
    commune = Commune.objects.get(slug="saint-test")
    assert commune.schema_name == "saint_test"
    assert commune.enabled_modules == ["periscolaire", "alsh", "petite_enfance", "billing"]
    with in_town(commune):
        assert Contact.objects.first().email == "espace-famille@ville-castres.fr"
        meals = Service.objects.get(code="restauration-scolaire")
        assert meals.module == "periscolaire"
        assert meals.deadlines["booking"] == {"rule": "days_before", "days": 7, "time": "23:59"}
        payment = PaymentSettings.objects.get()
        assert payment.kind == "payzen"
        assert payment.secret_env["secret_test"] == "CASTRES_PAYZEN_SECRET_TEST"


def test_rerun_is_idempotent_and_updates_what_changed(tmp_path, db, in_town):
    path = write(tmp_path, base_config())
    onboard_files([path])
    before = snapshot()
    [again] = onboard_files([path])
    assert not again.created and not again.changed
    assert snapshot() == before

    data = base_config()
    data["contact"]["phone"] = "05 63 00 00 00"
    data["services"] = [s for s in data["services"] if s["code"] != "etudes-dirigees"]
    data["module_settings"]["billing"]["services"].pop("etudes-dirigees", None)
    [changed] = onboard_files([write(tmp_path, data)])
    assert changed.changed and not changed.created
    commune = Commune.objects.get(slug="saint-test")
    assert commune.contact_phone == "05 63 00 00 00"
    with in_town(commune):
        # A service removed from the file is switched off, never deleted.
        assert not Service.objects.get(code="etudes-dirigees").is_active
        assert Service.objects.filter(is_active=True).count() == 6


def _bad(**changes):
    data = base_config()
    for dotted, value in changes.items():
        target = data
        *parents, last = dotted.split("__")
        for p in parents:
            target = target[int(p)] if p.isdigit() else target[p]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return data


DELETE = object()

BAD_FILES = {
    "wrong type": (_bad(modules="periscolaire"), "modules : doit être une liste."),
    "unknown service kind": (
        _bad(services__0__kind="cantine"),
        "services[0].kind : « cantine » n'est pas un type de service connu",
    ),
    "missing contact": (_bad(contact=DELETE), "contact : clé obligatoire manquante."),
    "contact without phone nor e-mail": (
        _bad(contact={"label": "Mairie"}),
        "contact : indiquez au moins un téléphone ou un e-mail.",
    ),
    "reserved slug": (_bad(slug="admin"), "slug : « admin » est réservé par la plateforme"),
    "bad slug": (_bad(slug="Saint Test"), "slug : « Saint Test » n'a pas le format attendu."),
    "unknown key": (_bad(mayor="Jean"), "mayor : clé inconnue."),
    "unknown module": (
        _bad(modules=["periscolaire", "piscine"]),
        "modules[1] : module « piscine » inconnu",
    ),
    "kind of a disabled module": (
        _bad(modules=["periscolaire", "billing"]),
        "services[4].kind : le type « alsh_mercredi » appartient au module « alsh »",
    ),
    "unknown deadline rule": (
        _bad(services__0__deadlines={"booking": {"rule": "whenever"}}),
        "services[0].deadlines.booking.rule : « whenever » n'est pas une règle connue",
    ),
    "deadline rule missing its number": (
        _bad(services__0__deadlines={"booking": {"rule": "days_before"}}),
        "services[0].deadlines.booking.days : clé obligatoire manquante.",
    ),
    "bad e-mail": (_bad(contact__email="pas-un-email"), "contact.email : « pas-un-email »"),
    "bad phone": (
        _bad(contact__phone="12"),
        "contact.phone : « 12 » n'est pas un numéro de téléphone",
    ),
    "insee already used": (
        _bad(insee_code="81065"),
        "insee_code : déjà utilisé par la commune « castres ».",
    ),
    "slug of another town": (
        _bad(slug="castres", insee_code="99001"),
        "slug : « castres » est déjà le chemin de la commune",
    ),
    "alias of another town": (
        _bad(aliases=["ville-castres"]),
        "aliases[0] : « ville-castres » est déjà le chemin",
    ),
    "secret in clear": (
        _bad(payment__secrets={"secret_test": "my-clear-secret"}),
        "payment.secrets.secret_test : attendu : le NOM d'une variable d'environnement",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_file_is_refused_precisely_and_changes_nothing(case, tmp_path, db, castres):
    data, expected = BAD_FILES[case]
    before = snapshot()
    path = write(tmp_path, data)
    with pytest.raises(CommandError) as exc:
        call_command("onboard_commune", str(path))
    message = str(exc.value)
    assert "saint-test.yaml" in message
    assert expected in message, message
    assert snapshot() == before


def test_yaml_syntax_error_names_the_line(tmp_path, db):
    path = write(tmp_path, "slug: x\nname: [unclosed\n")
    with pytest.raises(ConfigError) as exc:
        onboard_files([path])
    assert "YAML illisible (ligne" in str(exc.value)


def test_duplicate_slug_across_files_applies_none(tmp_path, db):
    before = snapshot()
    a = write(tmp_path, base_config(), "a.yaml")
    b = write(tmp_path, base_config(insee_code="99002", name="Autre"), "b.yaml")
    with pytest.raises(ConfigError) as exc:
        onboard_files([a, b])
    assert "b.yaml: slug : « saint-test » est déjà utilisé par" in str(exc.value)
    assert snapshot() == before


def test_all_option_with_one_bad_file_applies_none(tmp_path, db, settings):
    for slug in ("bassens", "donges"):
        (tmp_path / f"{slug}.yaml").write_text((CONFIGS / f"{slug}.yaml").read_text())
    write(tmp_path, _bad(slug="static"), "zz-bad.yaml")
    settings.TENANT_CONFIGS_DIR = tmp_path
    (tmp_path / "schema.json").write_text((CONFIGS / "schema.json").read_text())
    before = snapshot()
    with pytest.raises(CommandError) as exc:
        call_command("onboard_commune", all=True)
    assert "zz-bad.yaml: slug : « static » est réservé" in str(exc.value)
    assert snapshot() == before


def test_failure_during_writes_rolls_everything_back(tmp_path, db, monkeypatch):
    """A crash after the schema was created leaves no schema, no row, no domain."""
    import tenants.onboarding as onboarding

    def explode(config):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(onboarding, "_sync_town_rows", explode)
    before = snapshot()
    with pytest.raises(RuntimeError):
        onboard_files([write(tmp_path, base_config())])
    assert snapshot() == before


def test_module_checks_refuse_a_retroactive_tariff_change(tmp_path, db):
    """Billing: a tariff version that already applied cannot be changed by a new file."""
    data = base_config()
    onboard_files([write(tmp_path, data)])
    canteen = data["module_settings"]["billing"]["services"]["restauration-scolaire"]["versions"]
    past = next(v for v in canteen if v["applies_from"] <= "2026-09-01")
    past["grid"][0]["price"] = past["grid"][0]["price"] + 1
    before = snapshot()
    with pytest.raises(ConfigError) as exc:
        onboard_files([write(tmp_path, data)])
    assert "restauration-scolaire" in str(exc.value) and "a déjà servi" in str(exc.value)
    assert snapshot() == before


# Service options (sites, hours...) are checked with the rest of the town's YAML.
@pytest.mark.parametrize(
    "options, key, message",
    [
        ({"capacit": 3}, "services[0].options.capacit", "clé inconnue."),
        ({"registration": "manuelle"}, "services[0].options.registration", "n'est pas permis"),
        (
            {"sites": [{"code": "Ecole A", "name": "A"}]},
            "services[0].options.sites[0].code",
            "n'a pas le format attendu.",
        ),
        (
            {"hours": {"opens": "8h", "closes": "18:00"}},
            "services[0].options.hours.opens",
            "n'a pas le format attendu.",
        ),
    ],
)
def test_service_options_are_validated_at_onboarding(db, options, key, message):
    data = yaml.safe_load((settings.TENANT_CONFIGS_DIR / "castres.yaml").read_text())
    data["services"][0]["options"] = options
    with pytest.raises(ConfigError) as exc:
        validate(data, source="castres.yaml")
    assert any(p.key == key and message in p.message for p in exc.value.problems), (
        exc.value.problems
    )
