"""Test helpers: the stand-ins on a local port, and a browser's steps at the
provider (plain HTTP, as a person's browser would do them)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.test import override_settings

from idsim.provider import DEMO_API_TOKEN, IdentitySim, serve_in_thread

CLIENTS = {
    "demo-castres-guichet-famille": "secret-de-test-castres-franceconnect",
    "demo-bondoufle-guichet-famille": "secret-de-test-bondoufle-franceconnect",
}


@contextmanager
def identity_stand_in():
    """A FranceConnect + API Particulier stand-in on 127.0.0.1, the towns'
    integration/staging endpoints pointing at it, their secrets set."""
    sim = IdentitySim(clients=dict(CLIENTS))
    server, base = serve_in_thread(sim)
    sim.base_url = base
    issuers = {**settings.FRANCECONNECT_ISSUERS, "integration": base}
    apis = {**settings.API_PARTICULIER_URLS, "staging": base}
    variables = {
        "CASTRES_FRANCECONNECT_SECRET": CLIENTS["demo-castres-guichet-famille"],
        "BONDOUFLE_FRANCECONNECT_SECRET": CLIENTS["demo-bondoufle-guichet-famille"],
        "CASTRES_API_PARTICULIER_TOKEN": DEMO_API_TOKEN,
        "BONDOUFLE_API_PARTICULIER_TOKEN": DEMO_API_TOKEN,
    }
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        with override_settings(FRANCECONNECT_ISSUERS=issuers, API_PARTICULIER_URLS=apis):
            yield sim
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.shutdown()
        server.server_close()


@pytest.fixture
def idsim():
    with identity_stand_in() as sim:
        yield sim


def sign_in_at_provider(authorize_url: str, person: str = "claire", cancel: bool = False) -> str:
    """Open the provider's page, pick a demo person and submit; returns the
    path + query the provider sends the browser back to."""
    page = requests.get(authorize_url, timeout=10, allow_redirects=False)
    assert page.status_code == 200, page.text
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    answer = requests.post(
        authorize_url.split("?")[0],
        data={**params, "person": person, "action": "cancel" if cancel else "login"},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"
