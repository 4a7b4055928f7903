"""Browser smoke test: the platform home and a town's home, in real Chromium."""


def test_platform_home_then_castres(page, live_town, axe):
    page.goto(f"{live_town.url}/")
    assert page.title() == "Guichet Famille"
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role("link", name="Castres").click()
    page.wait_for_url(f"{live_town.url}/castres/")
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "Bienvenue sur le portail famille de Castres"
    )
    assert page.get_by_text("espace-famille@ville-castres.fr").first.is_visible()
    assert axe(page) == [], axe.format(axe(page))


def test_keyboard_user_can_skip_to_content(page, live_town):
    page.goto(f"{live_town.url}/castres/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    assert skip.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"


def test_unknown_town_page_is_friendly(page, live_town):
    response = page.goto(f"{live_town.url}/atlantis/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page introuvable"
