"""Health endpoints on the platform's URLconf: /health/, /health/live/, /health/ready/."""

import pytest
from django.db import connections
from django.test import override_settings


@pytest.mark.django_db
def test_health_answers_200_when_serving(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_liveness_checks_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.redis
def test_readiness_checks_postgresql_and_redis(client, settings):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL n'est pas défini")
    response = client.get("/health/ready/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "status": "ok",
        "checks": {"database.default": "ok", "redis": "ok"},
        "failed": [],
    }


@pytest.mark.django_db
def test_readiness_without_redis_checks_only_the_database(client):
    with override_settings(REDIS_URL=""):
        response = client.get("/health/ready/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database.default": "ok"}


@pytest.mark.django_db
def test_readiness_is_503_and_names_redis_when_redis_is_down(client):
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["redis"]
    assert body["checks"]["database.default"] == "ok"
    # Only the error's class: no host or address leaks through a public URL.
    assert body["checks"]["redis"] == "ConnectionError"


@pytest.mark.django_db
def test_readiness_is_503_and_names_the_database_that_is_down(client, monkeypatch):
    """A second PostgreSQL cluster (docs/scaling.md) that refuses connections
    makes the process unready; the default database still reports ok."""
    from django.db.utils import load_backend

    from core import health

    broken_settings = {
        **connections["default"].settings_dict,
        "HOST": "127.0.0.1",
        "PORT": "1",
        "OPTIONS": {"connect_timeout": 2},
    }
    # A real connection attempt to a port where nothing listens. Built outside
    # django.db.connections, which the test case guards.
    broken = load_backend(broken_settings["ENGINE"]).DatabaseWrapper(broken_settings, "cluster2")
    configured = health.database_connections()
    monkeypatch.setattr(health, "database_connections", lambda: {**configured, "cluster2": broken})

    response = client.get("/health/ready/")

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database.cluster2"]
    assert body["checks"]["database.default"] == "ok"
    assert body["checks"]["database.cluster2"] == "OperationalError"


@pytest.mark.django_db
def test_health_paths_are_not_towns(client, castres):
    """`health` is a reserved slug: the paths reach the platform's URLconf."""
    assert client.get("/health/live/").status_code == 200
    assert client.get("/castres/health/live/").status_code == 404
