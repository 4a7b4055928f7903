"""Schemathesis against each town's live OpenAPI schema, as a signed-in family.

Every operation of `/<slug>/api/schema/` (so every endpoint other teams add
later) gets generated requests through the real WSGI handler, with the
family's session cookie and CSRF header. Checks: no 5xx, and the response
matches the schema (status code documented, body valid).
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from families.testing import login, make_family
from tests.hardening.enumerate import TOWNS

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Generated examples per operation (~20 operations x 2 towns): the work is
# bounded by this count, never by a clock (the time is printed, not asserted).
MAX_EXAMPLES = 8

# Operations whose schema is knowingly incomplete: only `not_a_server_error` is
# checked there. Each entry says why; remove it when the schema is fixed.
_SEX_BLANK = (
    'families.api: Child.sex may be blank ("" = not given) but the schema\'s SexEnum '
    "lists only F and M (no BlankEnum): families' serializer to fix"
)
KNOWN_INCOMPLETE_SCHEMAS: dict[tuple[str, str], str] = {
    ("get", "/api/famille/enfants/"): _SEX_BLANK,
    ("post", "/api/famille/enfants/"): _SEX_BLANK,
    ("get", "/api/famille/enfants/{id}/"): _SEX_BLANK,
}


@contextmanager
def wsgi_app():
    """The real WSGI handler, minus the per-request connection recycling: the
    test's transaction (the family's rows) must survive each request, as with
    Django's own test client (which reconnects these signals after each of its
    requests: use no Django test client inside this block)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _session_headers(commune, user) -> dict[str, str]:
    client = Client()
    login(client, commune, user)
    client.get(f"/{commune.slug}/mon-espace/")  # the csrftoken cookie
    session, csrf = client.cookies["sessionid"].value, client.cookies["csrftoken"].value
    # schemathesis' WSGI transport files cookies under the domain "localhost".
    return {"cookies": {"sessionid": session, "csrftoken": csrf}, "headers": {"X-CSRFToken": csrf}}


def test_api_schema_fuzzing(castres, bondoufle):
    communes = {"castres": castres, "bondoufle": bondoufle}
    sessions = {}
    for slug in TOWNS:
        family = make_family(communes[slug], key=f"fuzz-{slug}", last_name="Fuzz")
        sessions[slug] = _session_headers(family.commune, family.user)
    with wsgi_app() as app:
        _fuzz(app, sessions)


def _fuzz(wsgi_app, sessions):
    started = time.monotonic()
    failures, operations, calls = [], 0, 0
    statuses = Counter()
    for slug in TOWNS:
        headers, cookies = sessions[slug]["headers"], sessions[slug]["cookies"]
        schema = schemathesis.openapi.from_wsgi(f"/{slug}/api/schema/?format=json", wsgi_app)
        # The session is really used: the fuzzing runs signed in, not anonymous.
        me = (
            schema["/api/compte/moi/"]["GET"]
            .Case()
            .call(base_url=f"http://localhost/{slug}", headers=headers, cookies=cookies)
        )
        assert me.json()["authenticated"] is True, (me.request.url, dict(me.request.headers))
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1
            key = (operation.method.lower(), operation.path)
            checks = [not_a_server_error]
            if key not in KNOWN_INCOMPLETE_SCHEMAS:
                checks.append(response_schema_conformance)

            @given(case=operation.as_strategy())
            @hypothesis.settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
                suppress_health_check=list(HealthCheck),
            )
            # run() is called at once, inside this iteration: the loop variables it
            # reads are the current ones (hypothesis allows no extra bound arguments).
            def run(case):
                nonlocal calls
                calls += 1
                response = case.call_and_validate(
                    base_url=f"http://localhost/{slug}",  # noqa: B023
                    headers=headers,  # noqa: B023
                    cookies=cookies,  # noqa: B023
                    checks=checks,  # noqa: B023
                )
                statuses[response.status_code] += 1

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported together
                failures.append(
                    f"{slug} {operation.method.upper()} {operation.path}: {str(exc)[:800]}"
                )
    assert operations >= 2 * 10, "le schéma OpenAPI n'a pas été énuméré"
    assert calls >= operations
    print(
        f"fuzz: {operations} operations, {calls} requests, statuses {dict(statuses)}, "
        f"{time.monotonic() - started:.1f} s"
    )
    assert statuses[200] > 0
    assert not failures, "\n\n".join(failures)
