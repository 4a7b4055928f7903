"""Every 500 is French, HTML for pages and a problem document for the API, and
carries the Sentry event id that our real Sentry client sent to a local
stand-in of Sentry's ingestion endpoint (the envelope protocol over HTTP)."""

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.test import Client
from sentry_sdk.integrations.django import DjangoIntegration

pytestmark = pytest.mark.django_db


class _Ingest(BaseHTTPRequestHandler):
    events: list[str] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        header = json.loads(body.split(b"\n", 1)[0])
        if header.get("event_id"):
            self.events.append(header["event_id"])
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Ingest.events = []
    sentry_sdk.init(
        dsn=f"http://publickey@127.0.0.1:{server.server_port}/1",
        integrations=[DjangoIntegration()],
        default_integrations=False,
        send_default_pii=False,
    )
    yield _Ingest.events
    sentry_sdk.get_client().close(timeout=2)
    sentry_sdk.get_global_scope().set_client(None)  # as before: Sentry off
    for scope in (sentry_sdk.get_isolation_scope(), sentry_sdk.get_current_scope()):
        scope.remove_tag("town")
    server.shutdown()


@pytest.fixture
def failing_town(settings, castres):
    settings.TENANT_URLCONF = "tests.urls_server_error"
    settings.DEBUG = False
    return castres


def _sent(sentry):
    sentry_sdk.flush(timeout=5)
    return list(sentry)


def test_a_page_500_is_french_and_shows_the_sentry_event_id(sentry, failing_town):
    response = Client(raise_request_exception=False).get("/castres/panne/")
    assert response.status_code == 500
    html = response.content.decode()
    assert 'lang="fr"' in html and "erreur" in html.lower()
    sent = _sent(sentry)
    assert len(sent) == 1
    assert sent[0] in html  # the id the family can quote is the one Sentry received


def test_an_api_500_is_a_french_problem_document_with_the_event_id(sentry, failing_town):
    response = Client(raise_request_exception=False).get("/castres/api/panne/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 500 and body["title"] == "Erreur du serveur"
    assert "inattendue" in body["detail"]
    assert body["sentry_event_id"] == _sent(sentry)[0]


def test_without_sentry_the_500_says_nothing_of_an_event(failing_town):
    response = Client(raise_request_exception=False).get("/castres/api/panne/")
    assert response.status_code == 500
    assert "sentry_event_id" not in response.json()


def test_an_unknown_api_address_is_a_problem_document(castres):
    response = Client().get("/castres/api/nulle-part/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["detail"] == "Ressource introuvable."
