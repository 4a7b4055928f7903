"""Issue #20 item 4 in real Chromium, as `agent.demo` in Castres: the accounting
export page (month and date range, totals, the journal download) at 390×844 and
1280×800, checked with axe-core; screenshots in test-artifacts/accounting/ (and
/work/shots/billing2/ when that folder exists)."""

from __future__ import annotations

import shutil
from pathlib import Path

from test_staff_workspace_browser import _sign_in_agent, castres_demo  # noqa: F401

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "accounting"
SHOTS = Path("/work/shots/billing2")


def _shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / path.name)


def test_accounting_export_page(browser, live_town, axe, castres_demo):  # noqa: F811
    demo = castres_demo
    url = live_town.url
    invoice = demo.invoice
    month = f"{invoice.invoice_date:%Y-%m}"  # the journal goes by invoice date
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    _sign_in_agent(page, url, demo.commune)
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{url}/castres/billing/gestion/comptabilite/")
        assert page.get_by_role("heading", name="Export comptable", exact=True).is_visible()
        page.get_by_label("Mois", exact=True).fill(month)
        page.get_by_role("button", name="Afficher ce mois").click()
        _shot(page, f"export-comptable-{width}")
        link = page.get_by_role("link", name="Télécharger le journal (CSV)")
        assert link.is_visible(), page.locator("main").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert axe(page) == [], axe.format(axe(page))
        with page.expect_download() as info:
            link.click()
        body = Path(info.value.path()).read_bytes()
        assert body.startswith("\ufeff".encode()) and b";" in body
        # a range the wrong way round: a French message, the form kept
        page.get_by_label("Du", exact=True).fill(f"{month}-20")
        page.get_by_label("Au (inclus)").fill(f"{month}-10")
        page.get_by_role("button", name="Afficher cette période").click()
        assert page.get_by_text("La date de fin est avant la date de début.").is_visible()
        assert axe(page) == [], axe.format(axe(page))
        _shot(page, f"export-comptable-erreur-{width}")
    context.close()
