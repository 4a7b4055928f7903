"""Fixtures shared by every test of the project.

The test database is real PostgreSQL (DATABASE_URL, or the embedded server when
unset). Two launch towns, Castres and Bondoufle, are onboarded ONCE per test
session from their real tenant_configs/*.yaml (committed, so other processes
such as a Celery worker see them); each test's own writes are rolled back.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Property tests check rules, never speed (speed lives in bench/): no per-example
# deadline, which failed on a loaded CI machine (a 200 ms budget per example).
hypothesis_settings.register_profile(
    "guichet", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
hypothesis_settings.load_profile("guichet")

# `--clock=ISO` / GUICHET_TEST_CLOCK: the whole session at a moved date (tests/clock.py).
pytest_plugins = [
    "tests.clock",
    "idsim.testing",
]  # idsim: the FranceConnect / API Particulier stand-ins


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from tests.support import onboard_session_towns

    with django_db_blocker.unblock():
        onboard_session_towns()


def pytest_configure(config):
    """Without DATABASE_URL the session runs on the embedded server: child
    processes (gunicorn, Celery workers, benchmarks, probes) inherit its FULL
    connection settings (socket directory included), never a default host."""
    import os

    from django.conf import settings

    from portal.embedded_db import database_url

    if not os.environ.get("DATABASE_URL") and settings.configured:
        os.environ["DATABASE_URL"] = database_url(settings.DATABASES["default"])


def pytest_unconfigure(config):
    """The embedded server this session started is stopped with it."""
    from portal.embedded_db import stop_started_servers

    stop_started_servers()


def pytest_collection_modifyitems(items):
    # Browser tests run last: Django's live server flushes the public schema.
    items.sort(key=lambda item: "tests/browser/" in str(item.fspath))


def _town(slug):
    from tenants.models import Commune

    connection.set_schema_to_public()
    return Commune.objects.get(slug=slug)


@pytest.fixture
def castres(db):
    """The town of Castres (schema `castres`), as onboarded from its YAML."""
    return _town("castres")


@pytest.fixture
def bondoufle(db):
    """The town of Bondoufle (schema `bondoufle`), as onboarded from its YAML."""
    return _town("bondoufle")


@pytest.fixture
def launch_town(db):
    """`launch_town("donges")`: any launch town of tenant_configs/. The session's
    towns (Castres, Bondoufle) as they are; another one is onboarded from its
    real YAML through the one write path, inside this test's transaction: rolled
    back after it, so no other test sees a town it did not ask for."""
    from django.conf import settings

    from core.towns import towns_changed
    from tenants.onboarding import onboard_files
    from tests.support import SESSION_TOWNS

    onboarded = []

    def _get(slug):
        if slug in SESSION_TOWNS:
            return _town(slug)
        [result] = onboard_files([settings.TENANT_CONFIGS_DIR / f"{slug}.yaml"])
        onboarded.append(slug)
        connection.set_schema_to_public()
        return result.commune

    yield _get
    if onboarded:  # the routing cache must not remember a rolled-back town
        towns_changed.send(sender=None)


@pytest.fixture
def in_town():
    """`with in_town(castres): ...` runs ORM calls in that town's schema."""

    @contextmanager
    def _in(commune):
        with tenant_context(commune):
            yield commune
        connection.set_schema_to_public()

    return _in


@pytest.fixture(autouse=True)
def _public_schema_after_test():
    yield
    connection.set_schema_to_public()


@pytest.fixture
def family(castres, in_town):
    """« Famille Martin à Castres »: one account, one legal representative, two children."""
    from tests.factories import AdultFactory, ChildFactory, HouseholdFactory, UserFactory

    with in_town(castres):
        user = UserFactory(username="martin", email="claire.martin@example.org")
        household = HouseholdFactory(name="Famille Martin")
        adult = AdultFactory(
            household=household, user=user, first_name="Claire", last_name="Martin"
        )
        children = [
            ChildFactory(
                household=household, first_name="Léa", last_name="Martin", guardians=[adult]
            ),
            ChildFactory(
                household=household, first_name="Hugo", last_name="Martin", guardians=[adult]
            ),
        ]
    return type(
        "Family",
        (),
        {
            "commune": castres,
            "user": user,
            "household": household,
            "adult": adult,
            "children": children,
        },
    )


@pytest.fixture
def castres_admin(castres):
    """A test client signed in as a Castres town admin (second factor verified)."""
    from django.test import Client

    from families.testing import login, make_staff

    client = Client()
    login(client, castres, make_staff(castres, username="admin", role="town_admin"))
    return client
