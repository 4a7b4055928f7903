"""End-to-end sign-up and sign-in in a real browser, through the shared harness
(tests/browser/conftest.py: Debian's Chromium, `page`, `live_town`).

The live server (under `live_town`) runs against a TransactionTestCase-style
database: it truncates
the public schema after each test (the towns' rows go) and never cleans the
towns' schemas. So each test starts from freshly reset session towns, and the
module leaves them onboarded and clean for the tests that follow.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection

PASSWORD = "une maison bleue adossée à la colline"
SESSION_TOWNS = ("castres", "bondoufle")  # the root conftest's (not importable by name here)


def _reset_session_towns() -> None:
    """Empty the towns' tables and onboard them again from their YAML."""
    from django.conf import settings

    from tenants.config import schema_name_for
    from tenants.models import Commune
    from tenants.onboarding import onboard_files

    for slug in SESSION_TOWNS:
        connection.set_schema(schema_name_for(slug))
        tables = connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        if tables:
            with connection.cursor() as cursor:
                quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
                cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    connection.set_schema_to_public()
    Commune.objects.filter(slug__in=SESSION_TOWNS).update(config_digest="")  # resync its rows
    onboard_files([settings.TENANT_CONFIGS_DIR / f"{slug}.yaml" for slug in SESSION_TOWNS])
    connection.set_schema_to_public()


@pytest.fixture(scope="module", autouse=True)
def _session_towns_survive(django_db_blocker):
    yield
    with django_db_blocker.unblock():
        _reset_session_towns()


@pytest.fixture
def towns(live_town):
    _reset_session_towns()
    from tenants.models import Commune

    return {c.slug: c for c in Commune.objects.all()}


def _link_in_last_mail(live_town) -> str:
    url = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    return live_town.url + "/" + url.split("://", 1)[1].split("/", 1)[1]


def _fill_signup(page, *, email, username, key=""):
    page.get_by_label("Prénom").fill("Claire")
    page.get_by_label("Nom", exact=True).fill("Martin")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Téléphone").fill("0612345678")
    page.get_by_label("Adresse", exact=True).fill("3 rue Villegoudou")
    page.get_by_label("Code postal").fill("81100")
    page.get_by_label("Commune").fill("Castres")
    page.get_by_label("Nom d'utilisateur").fill(username)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    if key:
        page.locator("#id_activation_key").fill(key)
    page.get_by_role("button", name="Créer mon espace").click()


def test_castres_sign_up_with_a_key_then_sign_in_by_email(page, live_town, towns):
    from django_tenants.utils import tenant_context

    from accounts.services import issue_activation_key
    from tests.factories import AdultFactory

    with tenant_context(towns["castres"]):
        adult = AdultFactory(first_name="Claire", last_name="Martin", email="")
        _, key = issue_activation_key(adult=adult, issued_by=None)
    connection.set_schema_to_public()

    page.goto(f"{live_town.url}/castres/compte/creer/")
    # A bad input first: the error summary takes the focus and names the field.
    _fill_signup(page, email="claire.martin@example.org", username="claire.martin", key="ABCD")
    assert page.locator("#erreurs").evaluate("el => el === document.activeElement")
    assert page.locator("#id_activation_key").get_attribute("aria-invalid") == "true"
    _fill_signup(page, email="claire.martin@example.org", username="claire.martin", key=key)
    page.get_by_role("heading", name="Consultez votre messagerie").wait_for()

    page.goto(_link_in_last_mail(live_town))
    page.get_by_role("button", name="Confirmer mon adresse").click()
    page.get_by_text("Votre adresse e-mail est confirmée").wait_for()

    page.get_by_label("Adresse e-mail ou nom d'utilisateur").fill("Claire.Martin@example.org")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r".*/castres/mon-espace/$"))
    assert "Première connexion" in page.locator(".user-menu").inner_text()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["sessionid"]["path"] == "/castres/" and cookies["sessionid"]["httpOnly"]

    with tenant_context(towns["castres"]):
        adult.refresh_from_db()
        assert adult.user.email == "claire.martin@example.org"
    connection.set_schema_to_public()

    # Signed in to a second town in the same browser: the two sessions coexist.
    from django.utils import timezone

    from tests.factories import UserFactory

    with tenant_context(towns["bondoufle"]):
        UserFactory(
            username="claire.b", email="claire.b@example.org", email_verified_at=timezone.now()
        )
    connection.set_schema_to_public()
    page.goto(f"{live_town.url}/bondoufle/compte/connexion/")
    page.get_by_label("Adresse e-mail ou nom d'utilisateur").fill("claire.b")
    page.get_by_label("Mot de passe", exact=True).fill("mot-de-passe-de-test-assez-long")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r".*/bondoufle/mon-espace/$"))
    me = page.request.get(f"{live_town.url}/castres/api/compte/moi/").json()
    assert me["authenticated"] and me["username"] == "claire.martin"
    me = page.request.get(f"{live_town.url}/bondoufle/api/compte/moi/").json()
    assert me["authenticated"] and me["username"] == "claire.b"


def test_bondoufle_sign_up_without_key_creates_a_link_request(page, live_town, towns):
    from django_tenants.utils import tenant_context

    from demandes.models import Demande

    page.goto(f"{live_town.url}/bondoufle/compte/creer/")
    _fill_signup(page, email="paul.leroy@example.org", username="paul.leroy")
    page.get_by_role("heading", name="Consultez votre messagerie").wait_for()
    page.goto(_link_in_last_mail(live_town))
    page.get_by_role("button", name="Confirmer mon adresse").click()
    page.get_by_text("demande de rattachement").wait_for()

    with tenant_context(towns["bondoufle"]):
        demande = Demande.objects.get(kind="link_account")
        assert demande.submitted_by.username == "paul.leroy"
    connection.set_schema_to_public()


def test_password_reset_end_to_end(page, live_town, towns):
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from tests.factories import UserFactory

    with tenant_context(towns["castres"]):
        UserFactory(
            username="martin", email="claire.martin@example.org", email_verified_at=timezone.now()
        )
    connection.set_schema_to_public()
    new_password = "trois petits chats dans le jardin"

    page.goto(f"{live_town.url}/castres/compte/connexion/")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_label("Adresse e-mail ou nom d'utilisateur").fill("martin")
    page.get_by_role("button", name="Recevoir le lien").click()
    page.get_by_role("heading", name="Consultez votre messagerie").wait_for()
    assert "mot-de-passe-de-test" not in mail.outbox[-1].body

    page.goto(_link_in_last_mail(live_town))
    page.get_by_label("Nouveau mot de passe", exact=True).fill(new_password)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(new_password)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    page.get_by_role("heading", name="Mot de passe modifié").wait_for()

    page.get_by_role("link", name="Se connecter").first.click()
    page.get_by_label("Adresse e-mail ou nom d'utilisateur").fill("martin")
    page.get_by_label("Mot de passe", exact=True).fill(new_password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r".*/castres/mon-espace/$"))
