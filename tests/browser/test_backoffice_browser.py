"""Back-office and operator console in real Chromium (acceptance of the issue)."""

import time
from urllib.parse import urlparse

from django.conf import settings
from django.db import connection
from django.test import Client
from playwright.sync_api import expect


def _staff(slug, username, role, areas=()):
    from django_tenants.utils import tenant_context

    from accounts.models import User
    from tenants.models import Commune

    connection.set_schema_to_public()
    commune = Commune.objects.get(slug=slug)
    with tenant_context(commune):
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "service_areas": list(areas),
                "email": f"{username}@mairie.example",
                "first_name": "Test",
                "last_name": username,
            },
        )
    connection.set_schema_to_public()
    return commune, user


def _sign_in(page, live, commune, user):
    from accounts.testing import force_login_verified

    client = Client()
    force_login_verified(client, user, commune)
    host = urlparse(live.url).hostname
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "domain": host,
                "path": f"/{commune.slug}/",
            }
        ]
    )


def test_town_admin_changes_the_meal_deadline_with_a_preview(page, live_town, axe):
    commune, admin = _staff("castres", "admin-castres", "town_admin")
    _sign_in(page, live_town, commune, admin)
    page.goto(f"{live_town.url}/castres/gestion/")
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role("link", name="Configuration de la commune").click()
    page.get_by_role("link", name="Restauration scolaire").click()
    assert page.get_by_label("Nombre de jours").input_value() == "7"
    page.get_by_label("Aperçu pour le jour").fill("2025-03-12")
    page.get_by_label("Nombre de jours").fill("3")
    # Live preview (htmx): Wednesday 12 March 2025, 3 days before -> Sunday 9 March.
    expect(page.locator("#apercu-texte")).to_contain_text("mercredi 12 mars 2025")
    expect(page.locator("#apercu-texte")).to_contain_text("dimanche 9 mars 2025 à 23:59")
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_label("Motif du changement (historique)").fill("Délai de 3 jours voté en conseil")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("la règle est en vigueur")
    # What families see at once: the town's API (the booking page reads the same Service rows).
    info = page.request.get(f"{live_town.url}/castres/api/commune/").json()
    meal = next(s for s in info["services"] if s["code"] == "restauration-scolaire")
    assert meal["deadlines"]["booking"]["days"] == 3
    page.goto(f"{live_town.url}/castres/gestion/configuration/historique/")
    expect(page.get_by_text("Délai de 3 jours voté en conseil")).to_be_visible()
    assert axe(page) == [], axe.format(axe(page))


def test_alsh_agent_cannot_open_billing(page, live_town):
    commune, agent = _staff("castres", "agent-alsh-castres", "agent", ["alsh"])
    _sign_in(page, live_town, commune, agent)
    response = page.goto(f"{live_town.url}/castres/gestion/facturation/")
    assert response.status == 403
    response = page.goto(f"{live_town.url}/castres/gestion/")
    assert response.status == 200
    expect(page.get_by_role("link", name="Facturation")).to_have_count(0)


def test_operator_onboards_saint_herblain_from_the_console(page, live_town):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    connection.set_schema_to_public()
    operator = User.objects.filter(username="operateur").first() or User.objects.create_superuser(
        "operateur", "ops@example.org", "mot-de-passe-operateur-long"
    )
    client = Client()
    client.force_login(operator)
    device = TOTPDevice.objects.create(user=operator, name="t", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    host = urlparse(live_town.url).hostname
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "domain": host,
                "path": "/",
            }
        ]
    )
    page.goto(f"{live_town.url}/admin/tenants/commune/")
    page.get_by_role("link", name="Intégrer une commune (YAML)").click()
    page.locator("input[type=file]").set_input_files(
        str(settings.TENANT_CONFIGS_DIR / "saint-herblain.yaml")
    )
    started = time.monotonic()
    page.locator("input[type=submit], button[type=submit]").last.click()
    expect(page.get_by_text("Saint-Herblain (/saint-herblain/) : créée")).to_be_visible(
        timeout=60_000
    )
    response = page.goto(f"{live_town.url}/saint-herblain/")
    elapsed = time.monotonic() - started
    assert response.status == 200
    assert elapsed < 30, elapsed
    print(f"saint-herblain onboarded and served in {elapsed:.1f} s")
