"""Back-office and operator console in real Chromium (acceptance of the issue)."""

import re
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
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


def _meal_day_4_to_6_days_ahead(commune):
    """A weekday 4 to 6 days ahead, not a public holiday: greyed with Castres's
    7-day meal deadline, bookable with a 3-day one."""
    from django_tenants.utils import tenant_context
    from test_reservations_flows import _today

    from booking.selectors import public_holidays

    with tenant_context(commune):
        holidays = public_holidays()
        day = next(
            d
            for d in (_today() + timedelta(days=n) for n in (4, 5, 6))
            if d.weekday() < 5 and d not in holidays
        )
    connection.set_schema_to_public()
    return day


@pytest.fixture
def castres_family(live_town, django_db_blocker):
    """A Castres family, its child registered to school meals, the meal day
    opened (rows in the town's schema, removed afterwards)."""
    from django_tenants.utils import tenant_context
    from test_reservations_flows import _family, _wipe

    from tenants.models import Commune

    with django_db_blocker.unblock():
        castres = Commune.objects.get(slug="castres")
        day = _meal_day_4_to_6_days_ahead(castres)
        fam = _family(castres, "Roux", ["Inès"], "restauration-scolaire", "ecole-centre", [day])
        fam.day, fam.commune = day, castres
    yield fam
    with django_db_blocker.unblock():
        with tenant_context(castres):
            _wipe()
        connection.set_schema_to_public()


def test_town_admin_changes_the_meal_deadline_and_a_family_can_book_at_once(
    page, browser, live_town, axe, castres_family
):
    from test_reservations_flows import _cell, _key
    from test_reservations_flows import _sign_in as sign_in_family

    fam = castres_family
    [ines] = fam.children
    key = _key(ines, fam.activity, fam.day)
    grid = f"{live_town.url}/castres/periscolaire/reservations/?service=restauration-scolaire"
    # The family's calendar, before: the day is greyed, with its reason in words.
    family_page = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris").new_page()
    sign_in_family(family_page, live_town, fam.commune, fam.user)
    family_page.goto(grid)
    cell = _cell(family_page, key)
    assert "cell-locked" in cell.get_attribute("class")
    expect(cell).to_contain_text("délai dépassé")
    expect(cell.locator("input[type=checkbox]")).to_be_disabled()

    commune, admin = _staff("castres", "admin-castres", "town_admin")
    _sign_in(page, live_town, commune, admin)
    page.goto(f"{live_town.url}/castres/gestion/")
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role("link", name="Configuration", exact=True).first.click()
    page.get_by_role("link", name="Restauration scolaire", exact=True).click()
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

    # The family's calendar, at once (same live server, nothing restarted):
    # the day is open, and the family books it.
    family_page.goto(grid)
    cell = _cell(family_page, key)
    assert "cell-locked" not in cell.get_attribute("class")
    expect(cell).not_to_contain_text("délai dépassé")
    expect(cell).to_contain_text(re.compile(r"modifiable jusqu'au .* à 23:59"))
    expect(cell.locator("input[type=checkbox]")).to_be_enabled()
    family_page.locator(f'input[name=cell][value="{key}"]').check()
    family_page.get_by_role("button", name="Valider mes réservations").click()
    expect(
        family_page.get_by_text("Modifications enregistrées : 1 jour(s) réservé(s)")
    ).to_be_visible()
    family_page.context.close()

    page.goto(f"{live_town.url}/castres/gestion/configuration/historique/")
    expect(page.get_by_text("Délai de 3 jours voté en conseil")).to_be_visible()
    assert axe(page) == [], axe.format(axe(page))


def test_alsh_agent_cannot_open_billing(page, live_town):
    commune, agent = _staff("castres", "agent-alsh-castres", "agent", ["alsh"])
    _sign_in(page, live_town, commune, agent)
    response = page.goto(f"{live_town.url}/castres/billing/gestion/apercu/")
    assert response.status == 403
    response = page.goto(f"{live_town.url}/castres/gestion/")
    assert response.status == 200
    expect(page.get_by_role("link", name="Facturation")).to_have_count(0)


def _sign_in_operator(page, live):
    """The platform operator, password and TOTP verified, on /admin/."""
    from accounts.models import User
    from accounts.testing import force_login_verified

    connection.set_schema_to_public()
    operator = User.objects.filter(username="operateur").first() or User.objects.create_superuser(
        "operateur", "ops@example.org", "mot-de-passe-operateur-long"
    )
    client = Client()
    force_login_verified(client, operator)
    host = urlparse(live.url).hostname
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "domain": host,
                "path": "/",
            }
        ]
    )


def test_operator_onboards_saint_herblain_from_the_console(page, live_town, axe):
    _sign_in_operator(page, live_town)
    page.goto(f"{live_town.url}/admin/tenants/commune/")
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_role("link", name="Intégrer une commune (YAML)").click()
    assert axe(page) == [], axe.format(axe(page))
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
    page.goto(f"{live_town.url}/admin/tenants/commune/sante/")
    assert axe(page) == [], axe.format(axe(page))


def test_operator_onboards_a_town_from_the_console_form(page, live_town, axe):
    _sign_in_operator(page, live_town)
    page.goto(f"{live_town.url}/admin/tenants/commune/")
    page.get_by_role("link", name="Intégrer une commune (formulaire)").click()
    expect(
        page.get_by_role("heading", name="Intégrer une commune avec le formulaire")
    ).to_be_visible()
    assert axe(page) == [], axe.format(axe(page))
    page.get_by_label("Chemin du portail (slug)").fill("saint-formulaire")
    page.get_by_label("Nom de la commune").fill("Saint-Formulaire")
    page.get_by_label("Code INSEE").fill("4410")  # one digit missing
    page.get_by_label("Numéro du département").fill("44")
    page.get_by_label("Nom du département").fill("Loire-Atlantique")
    page.get_by_label("Zone de vacances scolaires").select_option("B")
    page.get_by_label("Intitulé du contact principal").fill("Mairie de Saint-Formulaire")
    page.get_by_label("Téléphone").fill("02 40 00 00 00")
    page.get_by_label(re.compile(r"^Adresse e-mail")).fill("enfance@saint-formulaire.example")
    meals = page.get_by_role("group", name="Restauration scolaire")
    meals.get_by_label("Lieu d'accueil").fill("École Jules Verne")
    meals.get_by_label("Places par jour").fill("60")
    meals.get_by_label("N (jours, semaines ou heures)").fill("3")
    page.get_by_role("group", name="Transport scolaire").get_by_label(
        "Créer le service « Transport scolaire »"
    ).uncheck()
    page.get_by_role("button", name="Intégrer la commune").click()
    # Refused, nothing created; the French message is next to the field (and announced).
    expect(page.get_by_role("alert")).to_contain_text("rien n'a été créé")
    insee = page.get_by_label("Code INSEE")
    expect(insee).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_insee_code_error")).to_contain_text(
        "« 4410 » n'a pas le format attendu"
    )
    assert axe(page) == [], axe.format(axe(page))
    # The other answers are kept.
    expect(meals.get_by_label("Lieu d'accueil")).to_have_value("École Jules Verne")

    insee.fill("44101")
    started = time.monotonic()
    page.get_by_role("button", name="Intégrer la commune").click()
    expect(page.get_by_text("Saint-Formulaire (/saint-formulaire/) : créée")).to_be_visible(
        timeout=60_000
    )
    response = page.request.get(f"{live_town.url}/saint-formulaire/")
    elapsed = time.monotonic() - started
    assert response.status == 200 and "Saint-Formulaire" in response.text()
    assert elapsed < 30, elapsed
    # The YAML page: the file to commit, and how.
    expect(page.get_by_text("git add tenant_configs/saint-formulaire.yaml")).to_be_visible()
    assert (
        "name: Saint-Formulaire"
        in page.get_by_label("Contenu du fichier saint-formulaire.yaml").input_value()
    )
    assert axe(page) == [], axe.format(axe(page))
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger saint-formulaire.yaml").click()
    assert download.value.suggested_filename == "saint-formulaire.yaml"
    page.goto(f"{live_town.url}/saint-formulaire/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Saint-Formulaire")


def test_every_page_of_the_operator_console_passes_axe(page, live_town, axe):
    from tenants.models import Commune

    castres = Commune.objects.get(slug="castres")
    page.goto(f"{live_town.url}/admin/login/")
    problems = [] if not (found := axe(page)) else [f"/admin/login/: {axe.format(found)}"]
    _sign_in_operator(page, live_town)
    for path in (
        "",
        "tenants/commune/",
        f"tenants/commune/{castres.pk}/change/",
        f"tenants/commune/{castres.pk}/inviter/",
        f"tenants/commune/{castres.pk}/yaml/",
        "tenants/commune/integrer/",
        "tenants/commune/integrer/formulaire/",
        "tenants/commune/sante/",
        "tenants/configversion/",
        "tenants/failedtask/",
    ):
        response = page.goto(f"{live_town.url}/admin/{path}")
        assert response.status == 200, path
        if found := axe(page):
            problems.append(f"/admin/{path}: {axe.format(found)}")
    assert not problems, "\n".join(problems)
