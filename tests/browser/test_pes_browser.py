"""Issue #20 in real Chromium, as `agent.demo` in Castres: the titles page lists the
families the trésorerie would refuse, the civility is given on the page, the
bordereau is built and its file offered; the unpaid follow-up page by stage. Both
at 390×844 and 1280×800, checked with axe-core; screenshots in test-artifacts/pes/
(and /work/shots/pes/ when that folder exists)."""

from __future__ import annotations

from test_staff_workspace_browser import _sign_in_agent, castres_demo  # noqa: F401

from tests.browser.harness import assert_no_sideways_scroll, shot


def _shot(page, name):
    return shot(page, "pes", name)


_no_sideways_scroll = assert_no_sideways_scroll


def test_titles_and_unpaid_pages(browser, live_town, axe, castres_demo):  # noqa: F811
    demo = castres_demo
    url = live_town.url
    invoice = demo.invoice
    month = f"{invoice.year}-{invoice.month:02d}"
    # One sign-in (a TOTP code is accepted once), then both screen sizes.
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    _sign_in_agent(page, url, demo.commune)
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{url}/castres/billing/gestion/titres/?mois={month}")
        heading = page.get_by_role("heading", name="Titres de recettes pour la trésorerie")
        assert heading.is_visible()
        _no_sideways_scroll(page)
        assert axe(page) == [], axe.format(axe(page))
        _shot(page, f"titres-{width}")
        if width == 390:
            blocked = page.get_by_text("la civilité du payeur (M. ou Mme) n'est pas renseignée")
            assert blocked.count() >= 1
            while page.get_by_role("button", name="Enregistrer la civilité").count():
                page.get_by_role("button", name="Enregistrer la civilité").first.click()
            page.get_by_role("button", name="Constituer le bordereau").first.click()
            assert page.get_by_text("Bordereau n°").first.is_visible()
        else:
            page.get_by_role("link", name="N° ").first.click()
        assert page.get_by_role("link", name="Télécharger le fichier PES").is_visible()
        _no_sideways_scroll(page)
        assert axe(page) == [], axe.format(axe(page))
        _shot(page, f"bordereau-{width}")
        page.goto(f"{url}/castres/billing/gestion/impayes/")
        assert page.get_by_role("heading", name="Impayés et relances").is_visible()
        _no_sideways_scroll(page)
        assert axe(page) == [], axe.format(axe(page))
        _shot(page, f"impayes-{width}")
    context.close()
