"""The operator console's import of a town's families in real Chromium (issue 22):
pick Bondoufle in the town list, « Reprendre les familles d'un ancien portail »,
upload every documented example file (registrations and opening balances
included), read the dry run, import, then follow a run's progress that htmx
refreshes without reloading the page; at 390x844 and 1280x800, checked with axe.
Screenshots into $SHOTS_DIR (default test-artifacts/screenshots/console-import/)."""

import os
from pathlib import Path

from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.browser.test_backoffice_browser import _sign_in_operator

EXAMPLES = Path(settings.BASE_DIR) / "docs" / "import"
FILES = (
    "foyers",
    "responsables",
    "enfants",
    "sante",
    "personnes_autorisees",
    "quotients",
    "inscriptions",
    "soldes",
)


def _shots() -> Path:
    default = Path(settings.BASE_DIR) / "test-artifacts/screenshots/console-import"
    folder = Path(os.environ.get("SHOTS_DIR", default))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _in_bondoufle(fn):
    from tenants.models import Commune

    connection.set_schema_to_public()
    town = Commune.objects.get(slug="bondoufle")
    try:
        with tenant_context(town):
            return fn()
    finally:
        connection.set_schema_to_public()


WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' '
  + Math.round(e.getBoundingClientRect().right))"""


def _fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.evaluate(WIDEST)


def test_operator_imports_families_and_follows_the_run(
    page, live_town, axe, tmp_path, import_undone
):
    from families.models import ImportRun
    from tenants.models import Commune

    settings.IMPORT_STAGING_DIR = str(tmp_path)
    _sign_in_operator(page, live_town)
    town = Commune.objects.get(slug="bondoufle")
    shots = _shots()
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_town.url}/admin/tenants/commune/")
        page.locator(f"input[name=_selected_action][value='{town.pk}']").check()
        page.locator("select[name=action]").select_option("import_families")
        page.locator("button[name=index]").first.click()
        expect(
            page.get_by_role("heading", name="Reprise des familles de Bondoufle")
        ).to_be_visible()
        assert axe(page) == [], axe.format(axe(page))
        page.screenshot(path=str(shots / f"console-form-{width}.png"), full_page=True)
        _fits(page, width)

        for code in FILES:
            page.locator(f"input[name={code}]").set_input_files(str(EXAMPLES / f"{code}.csv"))
        page.get_by_role("button", name="Vérifier (essai à blanc)").click()
        expect(
            page.get_by_role("heading", name="Essai à blanc : rien n'est encore enregistré")
        ).to_be_visible()
        expect(page.get_by_text("service inconnu de la commune").first).to_be_visible()
        expect(page.get_by_text("montant nul : rien à reprendre").first).to_be_visible()
        assert axe(page) == [], axe.format(axe(page))
        page.screenshot(path=str(shots / f"console-report-{width}.png"), full_page=True)
        _fits(page, width)

        page.get_by_role("button", name="Importer les lignes acceptées").click()
        expect(page.get_by_role("heading", name="Dernier import")).to_be_visible()
        expect(page.get_by_text("Import lancé : suivez son avancement ci-dessous.")).to_be_visible()
        assert axe(page) == [], axe.format(axe(page))
        page.screenshot(path=str(shots / f"console-imported-{width}.png"), full_page=True)

        # A run still going: its block polls itself (htmx) and turns into the
        # report once the task has finished, without reloading the page.
        run = _in_bondoufle(
            lambda: ImportRun.objects.create(progress=40, current_file="enfants.csv")
        )
        page.goto(f"{live_town.url}/admin/tenants/commune/{town.pk}/reprise/")
        expect(page.get_by_role("heading", name="Import en cours")).to_be_visible()
        expect(page.get_by_text("40 % — enfants.csv")).to_be_visible()
        assert axe(page) == [], axe.format(axe(page))
        page.screenshot(path=str(shots / f"console-running-{width}.png"), full_page=True)
        _fits(page, width)
        page.evaluate("window.__same_page = true")
        _in_bondoufle(
            lambda run=run: ImportRun.objects.filter(pk=run.pk).update(
                status="done",
                progress=100,
                report={
                    "files": [
                        {
                            "filename": "enfants.csv",
                            "label": "enfants",
                            "created": 4,
                            "updated": 0,
                            "unchanged": 0,
                            "refused": 1,
                        }
                    ]
                },
            )
        )
        expect(page.get_by_role("heading", name="Dernier import")).to_be_visible(timeout=10_000)
        assert page.evaluate("window.__same_page === true")  # swapped in place, no reload
        expect(page.get_by_text("4 créées, 0 mise à jour, 0 inchangée, 1 refus")).to_be_visible()
        page.screenshot(path=str(shots / f"console-run-done-{width}.png"), full_page=True)
