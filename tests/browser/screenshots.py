"""`make screenshots`: what a parent sees on a phone (390x844) and what an
agent sees first, as PNG files anyone can look at.

Starts the demo (`manage.py rundemo` on a free port, its own database as
`make run` does) unless --url names one already running, signs in as README's
famille.martin in Castres and as agent.demo (demo TOTP), and saves under
test-artifacts/screenshots/ (git-ignored):
family dashboard, calendar, invoices, an invoice and its payment page (the
demo payment simulator) at 390 px; the staff home at 390 and 1280 px.
The pages are reached as a person would: by URL for the first one, then by
following the links and buttons on the pages.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

from tests.browser.harness import launch, new_page  # noqa: E402

OUT = ROOT / "test-artifacts" / "screenshots"
TOWN = "castres"
FAMILY = ("famille.martin", "une belle journée à la piscine")  # README.md
AGENT = ("agent.demo", "agent demo guichet famille")
TOTP_HEX = "48656c6c6f21deadbeef48656c6c6f21deadbeef"  # docs/demo-accounts.md


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_demo(port: int):
    env = {**os.environ, "PORT": str(port)}
    log = open(OUT / "demo.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "rundemo"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"La démo s'est arrêtée : voir {OUT / 'demo.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=5):
                return proc
        except OSError:
            time.sleep(1)
    proc.terminate()
    raise SystemExit("La démo n'a pas démarré à temps.")


def _totp() -> str:
    """RFC 6238 (30 s, SHA-1, 6 digits), what the authenticator app shows."""
    import hashlib
    import hmac
    import struct

    digest = hmac.new(
        bytes.fromhex(TOTP_HEX), struct.pack(">Q", int(time.time()) // 30), hashlib.sha1
    ).digest()
    offset = digest[-1] & 0x0F
    code = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{code % 1_000_000:06d}"


def _sign_in(page, base: str, who: tuple[str, str]) -> None:
    page.goto(f"{base}/{TOWN}/compte/connexion/")
    page.fill("input[name=identifier]", who[0])
    page.fill("input[name=password]", who[1])
    # The password form (a FranceConnect button may come first).
    page.locator("main form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()
    if page.locator("input[name=token]").count():
        page.fill("input[name=token]", _totp())
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()


def _shot(page, name: str) -> Path:
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    note = "" if width <= inner else f"  ATTENTION : {width} px de large pour {inner} px"
    print(f"{path.relative_to(ROOT)}  ({page.url}){note}")
    return path


def _follow(page, names: tuple[str, ...], fallback: str) -> None:
    """Click the first link named like one of `names`, else open `fallback`."""
    for name in names:
        link = page.get_by_role("link", name=name, exact=False)
        if link.count():
            link.first.click()
            page.wait_for_load_state()
            return
    page.goto(fallback)


def take(base: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        page = new_page(browser, width=390, height=844)
        page.goto(f"{base}/{TOWN}/")
        _shot(page, "commune-accueil-390")
        _sign_in(page, base, FAMILY)
        page.goto(f"{base}/{TOWN}/mon-espace/")
        _shot(page, "famille-1-tableau-de-bord-390")
        _follow(page, ("Réservations", "Calendrier"), f"{base}/{TOWN}/periscolaire/reservations/")
        _shot(page, "famille-2-calendrier-390")
        page.goto(f"{base}/{TOWN}/mon-espace/")
        _follow(page, ("Factures", "Mes factures"), f"{base}/{TOWN}/billing/factures/")
        _shot(page, "famille-3-factures-390")
        page.goto(f"{base}/{TOWN}/billing/factures/")
        rows = page.locator("tr, li, .card").filter(has_text="à payer")
        to_pay = rows.locator("a[href*='/billing/factures/']")
        if to_pay.count():
            to_pay.first.click()
            page.wait_for_load_state()
            _shot(page, "famille-4-facture-390")
        pay = page.get_by_role("button", name="Payer")
        if pay.count():
            pay.first.click()
            page.wait_for_load_state()
            _shot(page, "famille-5-paiement-390")
        else:
            print("Aucune facture à payer en ligne : capture du paiement omise.")
        page.context.close()
        page = new_page(browser, width=390, height=844)
        _sign_in(page, base, AGENT)  # one sign-in: a TOTP code is accepted once
        page.goto(f"{base}/{TOWN}/gestion/")
        _shot(page, "agent-accueil-gestion-390")
        page.set_viewport_size({"width": 1280, "height": 800})
        page.reload()
        _shot(page, "agent-accueil-gestion-1280")
        page.context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="une démo déjà lancée (ex. http://127.0.0.1:8000)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.url:
        take(args.url.rstrip("/"))
        return
    port = int(os.environ.get("SCREENSHOTS_PORT") or _free_port())
    proc = _start_demo(port)
    try:
        take(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
