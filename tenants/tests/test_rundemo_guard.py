"""rundemo publishes an operator password and staff TOTP secrets: it refuses
production settings and any database holding a town the demo did not create."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from tenants.management.commands.rundemo import demo_slugs, refuse_unsafe_target
from tenants.models import Commune
from tests.test_deploy_settings import PROD_ENV

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_a_database_with_a_town_the_demo_did_not_create_is_refused(castres):
    assert {"castres", "bondoufle"} <= demo_slugs()
    refuse_unsafe_target(database=True)  # the demo's own towns: accepted
    # A real town's row (no schema needed to be refused).
    Commune.objects.bulk_create(
        [
            Commune(
                schema_name="saint_real", slug="saint-real", name="Saint-Réel", insee_code="12345"
            )
        ]
    )
    with pytest.raises(CommandError, match="saint-real"):
        refuse_unsafe_target(database=True)


@pytest.mark.slow
def test_production_settings_are_refused():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(PROD_ENV)
    out = subprocess.run(
        [sys.executable, "manage.py", "rundemo", "--no-serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "rundemo refuse les réglages de production" in out.stderr
