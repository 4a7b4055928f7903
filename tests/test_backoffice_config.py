"""Town configuration after onboarding: export -> re-import round trip on every
launch town, apply_town_config refusing bad input (French, nothing saved, no
version), versioning (who, when), restore and the deadline preview."""

from __future__ import annotations

import copy
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import tenant_context

from core.models import Service
from tenants.config import ConfigError, load_file
from tenants.models import Commune, ConfigVersion
from tenants.services import (
    Actor,
    apply_town_config,
    diff_versions,
    export_yaml,
    reimport,
    restore_version,
)

pytestmark = pytest.mark.django_db
LAUNCH_TOWNS = ("bassens", "bondoufle", "castres", "donges", "chalonnes", "saint-herblain")


@pytest.mark.parametrize("slug", LAUNCH_TOWNS)
def test_export_then_reimport_gives_an_identical_config(slug):
    original = load_file(settings.TENANT_CONFIGS_DIR / f"{slug}.yaml")
    again = reimport(export_yaml(original.data), source=f"{slug} exporté")
    assert again.data == original.data
    assert again.digest == original.digest


@pytest.mark.parametrize("slug", LAUNCH_TOWNS)
def test_round_trip_keeps_a_towns_own_email_texts(slug):
    original = load_file(settings.TENANT_CONFIGS_DIR / f"{slug}.yaml").data
    data = {
        **copy.deepcopy(original),
        "email_templates": {
            "accounts/emails/password_reset.txt": {
                "subject": "{{ commune.name }} : nouveau mot de passe",
                "body": "Bonjour {{ user.first_name }},\n\n  {{ link }}  \n\n"
                "{% if minutes %}Valable {{ minutes }} min.{% endif %}\n",
            },
            "booking/email/offer.txt": {"subject": "Une place « {{ slot.activity.name }} »"},
        },
    }
    again = reimport(export_yaml(data), source=f"{slug} exporté")
    assert again.data == data


def test_export_command_of_an_onboarded_town_reimports_to_the_same_digest(castres, tmp_path):
    out = tmp_path / "castres.yaml"
    call_command("export_commune", "castres", "-o", str(out), stderr=StringIO())
    assert load_file(out).digest == Commune.objects.get(slug="castres").config_digest
    stdout = StringIO()
    call_command("export_commune", "castres", stdout=stdout)
    assert stdout.getvalue() == out.read_text()


def _meal_days(commune, days):
    data = copy.deepcopy(commune.config)
    data["services"][0]["deadlines"]["booking"]["days"] = days
    return data


def test_apply_changes_the_rule_in_force_and_writes_a_version_with_who_and_when(castres):
    before = ConfigVersion.objects.filter(commune=castres).count()
    original = copy.deepcopy(castres.config)
    actor = Actor("Agnès Admin (agnes)", 42, "castres")
    result = apply_town_config(
        commune=castres, data=_meal_days(castres, 3), actor=actor, message="Délai repas"
    )
    assert result.changed
    version = ConfigVersion.objects.filter(commune=castres).first()
    assert ConfigVersion.objects.filter(commune=castres).count() == before + 1
    assert (version.actor_display, version.actor_id, version.actor_schema) == (
        "Agnès Admin (agnes)",
        42,
        "castres",
    )
    assert version.message == "Délai repas" and version.created_at is not None
    assert version.digest == Commune.objects.get(pk=castres.pk).config_digest
    with tenant_context(castres):
        meal = Service.objects.get(code="restauration-scolaire")
    assert meal.deadlines["booking"]["days"] == 3
    # Applying the same dict again is a no-op: no new version.
    apply_town_config(commune=castres, data=_meal_days(castres, 3), actor=actor)
    assert ConfigVersion.objects.filter(commune=castres).count() == before + 1
    assert any("days: 3" in line for line in diff_versions(original, version.data))


@pytest.mark.parametrize(
    "change, key, words",
    [
        (
            lambda d: d["services"][0]["deadlines"]["booking"].update(rule="chaque_lundi"),
            "services[0].deadlines.booking.rule",
            "n'est pas une règle connue",
        ),
        (
            lambda d: d["services"][0]["deadlines"]["booking"].update(days="sept"),
            "services[0].deadlines.booking.days",
            "nombre entier",
        ),
        (lambda d: d["contact"].update(email="pas-une-adresse"), "contact.email", "e-mail"),
        (lambda d: d["modules"].remove("billing"), "payment.provider", "billing"),
        (lambda d: d.update(slug="autre-ville"), "slug", "ne peut pas être modifié"),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_saved(castres, change, key, words):
    digest = castres.config_digest
    versions = ConfigVersion.objects.count()
    data = copy.deepcopy(castres.config)
    change(data)
    with pytest.raises(ConfigError) as exc:
        apply_town_config(commune=castres, data=data, actor=Actor("x"))
    assert any(p.key == key and words in p.message for p in exc.value.problems), exc.value.problems
    assert Commune.objects.get(pk=castres.pk).config_digest == digest
    assert ConfigVersion.objects.count() == versions
    with tenant_context(castres):
        assert Service.objects.get(code="restauration-scolaire").deadlines["booking"]["days"] == 7


def test_restore_brings_back_an_earlier_version(castres):
    apply_town_config(commune=castres, data=_meal_days(castres, 3), actor=Actor("a"))
    first = ConfigVersion.objects.filter(commune=castres).order_by("number").first()
    assert first is not None  # written when the session onboarded Castres
    restore_version(version=first, actor=Actor("b"))
    latest = ConfigVersion.objects.filter(commune=castres).first()
    assert latest.digest == first.digest and latest.message == "Restauration de la version 1"
    assert connection.schema_name == "public"
