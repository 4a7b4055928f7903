"""The sign-in gate's answer in Chromium (accounts.signin_gate, issue #19): at
an opening's sign-in storm, the sign-in form answers at once « réessayez dans
environ N minutes », the turn is kept, the identifier stays typed; axe-core
finds nothing; nothing scrolls sideways at 360 px. Screenshots at 390x844 and
1280x800 (SHOTS_DIR, default test-artifacts/)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from accounts import signin_gate
from tests.browser.harness import new_page

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL absent")
SHOTS = Path(os.environ.get("SHOTS_DIR") or Path(__file__).parents[2] / "test-artifacts")


@pytest.fixture
def storm(live_town, django_db_blocker, settings):
    """Castres with one family account, and a gate busy for the next 3 minutes."""
    import redis

    from tenants.models import Commune
    from tests.factories import UserFactory

    settings.SIGNIN_GATE, settings.SIGNIN_GATE_CORES, settings.SIGNIN_GATE_BURST = True, 1, 1
    gate = redis.Redis.from_url(settings.REDIS_URL)
    gate.delete(signin_gate.KEY)
    gate.hset(
        signin_gate.KEY,
        mapping={"hash_s": "1.0", "issued": "170", "upto": "0", "last": repr(time.time())},
    )
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        commune = Commune.objects.get(slug="castres")
        with tenant_context(commune):
            user = UserFactory(username="orage", email="orage@example.org")
        connection.set_schema_to_public()
    yield user
    gate.delete(signin_gate.KEY)
    with django_db_blocker.unblock(), tenant_context(commune):
        from accounts.models import User

        User.objects.filter(username="orage").delete()
    connection.set_schema_to_public()


def test_the_sign_in_form_says_when_to_come_back(browser, live_town, storm, axe):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((390, 844), (1280, 800)):
        page = new_page(browser, width=width, height=height)
        page.goto(f"{live_town.url}/castres/compte/connexion/")
        page.get_by_label("Adresse e-mail ou nom d'utilisateur").fill("orage")
        page.get_by_label("Mot de passe", exact=True).fill("mot-de-passe-de-test-assez-long")
        with page.expect_response(lambda r: "/compte/connexion/" in r.url) as answer:
            page.get_by_role("button", name="Se connecter").click()
        assert answer.value.status == 429
        message = page.get_by_text("Beaucoup de familles se connectent en ce moment")
        assert message.is_visible()
        assert "réessayez dans environ 3 minutes" in message.inner_text()
        assert page.get_by_label("Adresse e-mail ou nom d'utilisateur").input_value() == "orage"
        assert any(c["name"] == signin_gate.TURN_COOKIE for c in page.context.cookies())
        assert axe(page) == [], axe.format(axe(page))
        page.screenshot(path=str(SHOTS / f"signin-gate-{width}x{height}.png"), full_page=True)
        page.set_viewport_size({"width": 360, "height": 780})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.context.close()
