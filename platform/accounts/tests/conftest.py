"""Fixtures of the accounts tests."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the (per-town) cache: each test starts clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    """`send("post", url, data)`: a request whose after-commit e-mails are sent."""

    def _send(method, url, data=None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return getattr(client, method)(url, data or {}, **extra)

    return _send


@pytest.fixture
def staff_user(castres, in_town):
    from tests.factories import UserFactory

    with in_town(castres):
        return UserFactory(
            username="agent.castres",
            email="agent@castres.example",
            role="agent",
            service_areas=["periscolaire"],
        )
