"""The one way this project drives a browser: Debian's /usr/bin/chromium
(never a downloaded one), headless, with these flags. Used by the browser
tests' fixtures (conftest.py) and by `make screenshots` (screenshots.py)."""

import shutil
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = (
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=list(LAUNCH_ARGS))


def new_page(browser, *, width: int = 390, height: int = 844):
    """A French, Paris-time page at the given viewport (390x844: a phone)."""
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": width, "height": height}
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def assert_no_sideways_scroll(page):
    """Nothing scrolls sideways at the page's current width."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def shot(page, folder: str, name: str):
    """A full-page screenshot in test-artifacts/<folder>/ (and /work/shots/<folder>/
    when that folder exists, for whoever walks the journey), returned as a Path."""
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts" / folder
    artifacts.mkdir(parents=True, exist_ok=True)
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    shots = Path("/work/shots") / folder
    if shots.is_dir():
        shutil.copy(path, shots / path.name)
    return path
