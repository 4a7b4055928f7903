"""A Donges visitor, not signed in, reads this week's canteen menu and a news item;
axe-core finds no WCAG 2.1 A/AA violation on any page the accessibility
statement says is checked (content.accessibility.CHECKED_PAGES)."""

import pytest
from django.conf import settings as django_settings
from django.urls import reverse


@pytest.fixture
def donges(live_town, django_db_blocker, settings, tmp_path):
    """Donges onboarded from its real YAML, with the demo public space."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from content import demo
    from content.models import InfoPage, MenuSite, NewsItem, Reglement, WeeklyMenu
    from documents.testing import forget_media_root
    from tenants.onboarding import onboard_files

    settings.MEDIA_ROOT = str(tmp_path / "media")
    forget_media_root()
    with django_db_blocker.unblock():
        [result] = onboard_files([django_settings.TENANT_CONFIGS_DIR / "donges.yaml"])
        commune = result.commune
        with tenant_context(commune):
            demo.load(commune)
        connection.set_schema_to_public()
    yield commune
    with django_db_blocker.unblock(), tenant_context(commune):
        # The live server's flush empties the public schema only: leave the town's schema clean.
        for model in (NewsItem, WeeklyMenu, MenuSite, InfoPage, Reglement):
            model.objects.all().delete()
    connection.set_schema_to_public()
    forget_media_root()


def test_a_visitor_reads_the_weeks_menu_and_a_news_item(page, live_town, donges, axe):
    page.goto(f"{live_town.url}/donges/")
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "Bienvenue sur le portail famille de Donges"
    )
    assert axe(page) == [], axe.format(axe(page))

    page.get_by_role("link", name="Menus de la restauration scolaire").click()
    page.wait_for_url(f"{live_town.url}/donges/menus/")
    assert page.get_by_role(
        "heading", level=2, name="Restaurant scolaire des écoles publiques"
    ).is_visible()
    assert page.get_by_text("Poisson pané").is_visible()
    assert page.get_by_text("poisson, gluten, lait").is_visible()
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role("link", name="Semaine suivante").click()
    assert page.get_by_text("Hachis parmentier").is_visible()

    page.goto(f"{live_town.url}/donges/")
    page.get_by_role("link", name="Guide de l'enfance").first.click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Guide de l'enfance")
    assert page.get_by_role("link", name="(PDF)").first.is_visible()
    assert axe(page) == [], axe.format(axe(page))
    # A draft is never shown to visitors.
    page.goto(f"{live_town.url}/donges/actualites/")
    assert page.get_by_text("Fermeture exceptionnelle").count() == 0


def test_every_page_the_accessibility_statement_lists_passes_axe(page, live_town, donges, axe):
    from content.accessibility import CHECKED_PAGES

    for label, name in CHECKED_PAGES:
        path = reverse(name, urlconf=django_settings.TENANT_URLCONF)
        response = page.goto(f"{live_town.url}/donges{path}")
        assert response.status == 200, label
        assert axe(page) == [], f"{label}: {axe.format(axe(page))}"
