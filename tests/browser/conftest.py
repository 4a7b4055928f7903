"""Playwright harness: Debian's /usr/bin/chromium (never a downloaded browser),
Django's live server, and axe-core from npm for accessibility checks.

Every later issue adds its flows here. Use the `live_town` fixture (not
`live_server` alone): the live server flushes the public schema after each
test, and `live_town` onboards the session towns again afterwards.
"""

import json
import os
from pathlib import Path

import pytest

from tests.browser.harness import CHROMIUM, launch

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# What an htmx fragment cannot have: the page it is inserted in has them.
DOCUMENT_RULES = ("document-title", "html-has-lang", "html-lang-valid", "html-xml-lang-mismatch")

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between browser steps are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:  # (the root conftest also sorts these tests last)
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if not os.path.exists(CHROMIUM):
                item.add_marker(
                    pytest.mark.skip(reason="Chromium absent : apt-get install chromium")
                )


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def live_town(live_server, django_db_blocker):
    """The live server, with the session towns present (the previous browser
    test's flush removed their public rows; their schemas stay)."""
    from tests.support import onboard_session_towns

    with django_db_blocker.unblock():
        onboard_session_towns()
    yield live_server
    with django_db_blocker.unblock():
        onboard_session_towns()


@pytest.fixture
def import_undone(live_town, django_db_blocker):
    """For a test that runs the family import in the session towns (the live
    server commits its rows): afterwards, what the import created there is
    deleted — its households with their people, registrations and billing rows
    (opening balances and their invoices), its source records and its runs.
    Rows that were there before the test stay."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from booking.models import Registration
    from families.models import Household, ImportedRecord, ImportRun
    from modules.billing.testing import purge_households
    from tenants.models import Commune
    from tests.support import SESSION_TOWNS

    made = (Household, Registration, ImportedRecord, ImportRun)

    def pks():
        return {model: set(model.objects.values_list("pk", flat=True)) for model in made}

    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        before = {}
        for town in Commune.objects.filter(slug__in=SESSION_TOWNS):
            with tenant_context(town):
                before[town.slug] = pks()
        connection.set_schema_to_public()
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        for town in Commune.objects.filter(slug__in=before):
            with tenant_context(town):
                new = {m: ids - before[town.slug][m] for m, ids in pks().items()}
                Registration.objects.filter(pk__in=new[Registration]).delete()
                purge_households(new[Household])
                ImportedRecord.objects.filter(pk__in=new[ImportedRecord]).delete()
                ImportRun.objects.filter(pk__in=new[ImportRun]).delete()
        connection.set_schema_to_public()


@pytest.fixture
def axe():
    """`axe(page)` -> list of WCAG 2 A/AA violations on the current page."""
    if not AXE.exists():
        pytest.skip("axe-core absent : lancez `npm install` (fait par make test)")
    from content.accessibility import AXE_TAGS  # what the statement says is run

    source = AXE.read_text()

    def run(pg, fragment=False):
        """`fragment`: an htmx fragment opened on its own (no <html>, no
        <title>): the rules about the whole document are left out."""
        # Evaluated through the DevTools protocol, not as an inline <script>:
        # the pages' Content-Security-Policy (docs/decisions/0301) stays enforced.
        pg.evaluate(source)
        # resultTypes: only the violations are detailed (faster on big pages).
        options = {
            "runOnly": {"type": "tag", "values": list(AXE_TAGS)},
            "resultTypes": ["violations"],
        }
        if fragment:
            options["rules"] = {rule: {"enabled": False} for rule in DOCUMENT_RULES}
        result = pg.evaluate("async (options) => await axe.run(document, options)", options)
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
        ]

    run.format = lambda v: json.dumps(v, indent=2, ensure_ascii=False)
    return run
