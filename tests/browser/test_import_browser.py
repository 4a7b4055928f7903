"""The town admin's family import in real Chromium (issue 22): upload the
documented example files, read the dry run's report, import, at 390x844 and
1280x800, checked with axe; screenshots into $SHOTS_DIR (default
test-artifacts/screenshots/import/)."""

import os
from pathlib import Path

from django.conf import settings
from playwright.sync_api import expect

from tests.browser.test_config_forms_browser import _sign_in_admin

EXAMPLES = Path(settings.BASE_DIR) / "docs" / "import"
FILES = ("foyers", "responsables", "enfants", "sante", "personnes_autorisees", "quotients")


def _shots() -> Path:
    folder = Path(
        os.environ.get("SHOTS_DIR", Path(settings.BASE_DIR) / "test-artifacts/screenshots/import")
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_import_dry_run_then_import_at_both_sizes(page, live_town, axe, tmp_path, import_undone):
    settings.IMPORT_STAGING_DIR = str(tmp_path)
    _sign_in_admin(page, live_town)
    shots = _shots()
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_town.url}/castres/gestion/configuration/")
        page.get_by_role("link", name="Reprise des familles d'un ancien portail").click()
        assert axe(page) == [], axe.format(axe(page))
        page.screenshot(path=str(shots / f"form-{width}.png"), full_page=True)
        for code in FILES:
            page.locator(f"input[name={code}]").set_input_files(str(EXAMPLES / f"{code}.csv"))
        page.get_by_role("button", name="Vérifier (essai à blanc)").click()
        expect(
            page.get_by_role("heading", name="Essai à blanc : rien n'est encore enregistré")
        ).to_be_visible()
        expect(page.get_by_text("cette date n'existe pas dans le calendrier")).to_be_visible()
        assert axe(page) == [], axe.format(axe(page))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(shots / f"report-{width}.png"), full_page=True)
        page.get_by_role("button", name="Importer les lignes acceptées").click()
        expect(page.get_by_role("heading", name="Dernier import")).to_be_visible()
        assert axe(page) == [], axe.format(axe(page))
        page.screenshot(path=str(shots / f"imported-{width}.png"), full_page=True)
