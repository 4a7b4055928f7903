"""API of the sign-in state, and the town's OpenAPI schema still generating."""

from datetime import UTC, datetime

import time_machine

PASSWORD = "mot-de-passe-de-test-assez-long"


def test_me_when_anonymous(client, castres):
    response = client.get("/castres/api/compte/moi/")
    assert response.status_code == 200
    assert response.json() == {
        "authenticated": False,
        "username": None,
        "first_name": None,
        "last_name": None,
        "email": None,
        "role": None,
        "previous_login": None,
        "second_factor_verified": False,
    }
    assert response["Cache-Control"] == "no-store"


def test_me_when_signed_in_shows_the_previous_login(client, family):
    with time_machine.travel(datetime(2026, 11, 19, 11, 6, tzinfo=UTC), tick=False):
        client.post("/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD})
    # The page is read under the same frozen clock: the session's lifetime is
    # measured against that clock, never against the real today.
    with time_machine.travel(datetime(2026, 11, 21, 8, 0, tzinfo=UTC), tick=False):
        client.post("/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD})
        data = client.get("/castres/api/compte/moi/").json()
    assert data["authenticated"] and data["username"] == "martin" and data["role"] == "family"
    assert data["previous_login"].startswith("2026-11-19T12:06:00")


def test_openapi_schema_generates_without_errors_and_lists_me(client, castres, tmp_path):
    from django.core.management import call_command

    response = client.get("/castres/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert any(path.endswith("/api/compte/moi/") for path in response.json()["paths"])
    # drf-spectacular's own check: any warning or invalid schema fails.
    call_command(
        "spectacular",
        urlconf="portal.urls_tenant",
        fail_on_warn=True,
        validate=True,
        file=str(tmp_path / "schema.yaml"),
    )
