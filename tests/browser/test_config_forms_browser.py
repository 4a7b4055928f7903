"""The structured configuration forms in real Chromium, checked with axe, with
their htmx enhancements (the pages with arguments, which the axe sweep of
argless pages does not reach, and the error states)."""

from urllib.parse import urlparse

from django.conf import settings
from django.db import connection
from django.test import Client
from playwright.sync_api import expect


def _sign_in_admin(page, live):
    from django_tenants.utils import tenant_context

    from accounts.models import User
    from accounts.testing import force_login_verified
    from tenants.models import Commune

    connection.set_schema_to_public()
    commune = Commune.objects.get(slug="castres")
    with tenant_context(commune):
        user, _ = User.objects.get_or_create(
            username="admin-forms", defaults={"role": "town_admin", "first_name": "Test"}
        )
    connection.set_schema_to_public()
    client = Client()
    force_login_verified(client, user, commune)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "domain": urlparse(live.url).hostname,
                "path": "/castres/",
            }
        ]
    )


def test_email_editor_live_preview_save_and_revert(page, live_town, axe):
    _sign_in_admin(page, live_town)
    base = f"{live_town.url}/castres/gestion/configuration/courriels/"
    page.goto(base)
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role("link", name="Réservations — place proposée (liste d'attente)").click()
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_label("Texte du message").fill("Bonjour, une place pour {{ child.first_name }}.")
    expect(page.locator("#apercu")).to_contain_text("une place pour Léa.")  # htmx preview
    page.get_by_label("Texte du message").fill("{% load i18n %}")
    expect(page.locator("#apercu")).to_contain_text("n'est pas permise")
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text("Rien n'a été enregistré")
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_label("Texte du message").fill("Bonjour, une place pour {{ child.first_name }}.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("enregistré")
    expect(page.get_by_text("propre à la commune")).to_be_visible()
    page.get_by_role("link", name="Réservations — place proposée (liste d'attente)").click()
    page.get_by_role("button", name="Revenir au texte par défaut").click()
    expect(page.get_by_role("status")).to_contain_text("le texte par défaut est rétabli")


def test_tariff_version_rows_and_simulation(page, live_town, axe):
    _sign_in_admin(page, live_town)
    page.goto(f"{live_town.url}/castres/billing/gestion/configuration/tarifs/")
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role(
        "link", name="Ajouter une version du tarif « Accueil périscolaire du matin »"
    ).click()
    assert axe(page) == [], axe.format(axe(page))
    rows = page.locator("#version-form tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_role("button", name="Ajouter une tranche").click()  # htmx, or a plain POST
    expect(rows).to_have_count(4)
    page.get_by_label("Simuler pour un quotient familial de (€)").fill("900")
    page.get_by_role("button", name="Simuler").click()
    expect(page.locator("#simulation-texte")).to_contain_text("quotient familial de 900 €")
    page.get_by_label("S'applique à partir du").fill("2020-01-01")
    page.get_by_role("button", name="Enregistrer la nouvelle version").click()
    expect(page.get_by_text("jamais rétroactifs").first).to_be_visible()
    assert axe(page) == [], axe.format(axe(page))


def test_contacts_and_payment_forms(page, live_town, axe):
    _sign_in_admin(page, live_town)
    page.goto(f"{live_town.url}/castres/gestion/configuration/contacts/")
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role("button", name="Ajouter un contact").click()
    expect(page.get_by_role("group", name="Autre contact n° 3")).to_be_visible()
    page.locator("#id_contact-phone").fill("12")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#id_contact-phone_error")).to_contain_text("numéro de téléphone")
    assert axe(page) == [], axe.format(axe(page))
    page.goto(f"{live_town.url}/castres/billing/gestion/configuration/paiement/")
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_label("Prestataire de paiement en ligne").select_option("paybox")
    expect(page.get_by_label("Numéro de rang")).to_be_visible()  # htmx swap on change
    assert axe(page) == [], axe.format(axe(page))


def test_helios_identifiers_form(page, live_town, axe):
    """The town admin's Hélios identifiers (issue #20): a bad SIRET key refused in
    French next to the field, at 390×844 and 1280×800 (screenshots in
    test-artifacts/accounting/, and /work/shots/billing2/ when that folder exists)."""
    import shutil
    from pathlib import Path

    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts" / "accounting"
    artifacts.mkdir(parents=True, exist_ok=True)
    _sign_in_admin(page, live_town)
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_town.url}/castres/billing/gestion/configuration/regies/")
        page.get_by_label("SIRET de la collectivité").fill("21810065000008")
        page.get_by_role("button", name="Enregistrer les identifiants Hélios").click()
        expect(page.get_by_text("La clé de contrôle du SIRET est fausse").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert axe(page) == [], axe.format(axe(page))
        path = artifacts / f"helios-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        if Path("/work/shots/billing2").is_dir():
            shutil.copy(path, Path("/work/shots/billing2") / path.name)
