"""The opening rush, small (bench/opening_rush.py's own code, in about 20 s):
60 signed-in families of a town with ALL the modules on (Castres's real YAML,
onboarded as `rush-smoke`) POST their booking of the same 2-day summer session
with 20 places a day to gunicorn (2 sync workers) at once, 16 at a time,
through the real HTTP stack. Every answer is a 200 or a 409 "full" problem
document: no 5xx, and the database shows no overbooked place and no counter
drift. The full-size run and its figures: docs/benchmarks.md.

Marked `load` (its own CI step, .ci/run) and `slow` (it starts gunicorn).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.support import in_own_connection

pytestmark = [pytest.mark.load, pytest.mark.slow, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[1]
SLUG = "rush-smoke"
FAMILIES, PLACES, DAYS, CONCURRENCY, WORKERS = 60, 20, 2, 16, 2


def _bench():
    path = ROOT / "bench" / "opening_rush.py"
    spec = importlib.util.spec_from_file_location("opening_rush", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def rush_town(db):
    """Castres's YAML under another slug: a town of its own, committed from a
    helper thread (gunicorn must see it) and dropped afterwards: nothing is
    left in the session towns."""
    from tenants.models import Commune
    from tenants.onboarding import onboard_yaml_text

    text = (settings.TENANT_CONFIGS_DIR / "castres.yaml").read_text()
    for old, new in (
        ("slug: castres", f"slug: {SLUG}"),
        ("name: Castres", "name: Rush"),
        ("aliases: [ville-castres]", "aliases: []"),
        ('insee_code: "81065"', 'insee_code: "99999"'),
    ):
        assert old in text, old
        text = text.replace(old, new)
    commune = in_own_connection(
        None, lambda: onboard_yaml_text(text, source=f"{SLUG}.yaml").commune
    )

    def drop():
        schema = commune.schema_name
        Commune.objects.filter(pk=commune.pk).delete()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    try:
        yield commune
    finally:
        in_own_connection(None, drop)


def test_opening_rush_smoke_no_5xx_no_overbooking(rush_town):
    bench = _bench()
    info = in_own_connection(
        None, lambda: bench.populate(rush_town, FAMILIES, PLACES, DAYS, ceiling=False)
    )
    from portal.embedded_db import database_url

    info["database_url"] = database_url(connection.settings_dict)

    result = bench.rush_and_count(
        info, workers=WORKERS, port=bench.free_port(), concurrency=CONCURRENCY
    )
    print(result)
    assert result["modules"] == ["alsh", "billing", "periscolaire", "petite_enfance"]
    assert result["errors_5xx"] == 0, result["statuses"]
    assert set(result["statuses"]) <= {"200", "409"}, result["statuses"]
    assert result["overbooked"] == 0 and result["counter_drift"] == 0, result
    # Every place is taken, by whole submissions (all the days or none).
    assert result["booked"] == PLACES * DAYS, result
    assert result["statuses"]["200"] == PLACES and result["statuses"]["409"] == FAMILIES - PLACES
