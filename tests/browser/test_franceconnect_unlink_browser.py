"""« Délier FranceConnect » on a family's record, in real Chromium, as a town
agent at 390×844 (phone) and 1280×800: the section says which adult is linked
and since when, the unlink asks « Je confirme », then the record shows the
account unlinked. axe-core finds no WCAG A/AA violation. Screenshots under
test-artifacts/ (and SHOTS_DIR when set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect
from test_backoffice_browser import _sign_in, _staff

ARTIFACTS = Path(
    os.environ.get("SHOTS_DIR") or Path(__file__).resolve().parents[2] / "test-artifacts"
)


def _shot(page, name):
    """The whole page, and the FranceConnect section alone (to read it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.locator("section[aria-labelledby=franceconnect]").screenshot(
        path=str(ARTIFACTS / f"{name}-section.png")
    )


@pytest.mark.parametrize("width, height", [(390, 844), (1280, 800)])
def test_agent_unlinks_franceconnect_from_the_family_record(
    browser, live_town, django_db_blocker, axe, width, height
):
    from harness import new_page

    from accounts.models import FranceConnectLink
    from families.testing import make_family

    with django_db_blocker.unblock():
        commune, agent = _staff("castres", f"accueil.fc{width}", "agent", ["periscolaire"])
        fam = make_family(commune, key=f"fc{width}", last_name="Lefèvre", children=1)
        with tenant_context(commune):
            FranceConnectLink.objects.create(user=fam.user, sub=f"sub-de-test-{width}")
        connection.set_schema_to_public()
    page = new_page(browser, width=width, height=height)
    _sign_in(page, live_town, commune, agent)
    page.goto(f"{live_town.url}/castres/gestion/familles/{fam.household.pk}/#franceconnect")
    section = page.locator("section[aria-labelledby=franceconnect]")
    expect(section).to_contain_text("Relié à FranceConnect")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    section.get_by_text("Délier FranceConnect").first.click()
    section.scroll_into_view_if_needed()
    _shot(page, f"franceconnect-unlink-{width}")
    assert axe(page) == []
    section.get_by_label("Je confirme").check()
    section.get_by_role("button", name="Délier FranceConnect").click()
    expect(page.locator(".alert").first).to_contain_text("FranceConnect est délié du compte")
    expect(page.locator("section[aria-labelledby=franceconnect]")).to_contain_text(
        "Non relié à FranceConnect"
    )
    _shot(page, f"franceconnect-unlinked-{width}")
    with django_db_blocker.unblock(), tenant_context(commune):
        assert not FranceConnectLink.objects.filter(user=fam.user).exists()
    page.context.close()
