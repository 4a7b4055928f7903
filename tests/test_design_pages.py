"""Design system pages: the living style page, French error pages in the
town's style (never a failing handler), and staff forms that show only the
chosen kind's fields without JavaScript (ui.js does the same live)."""

import datetime
import html
import re

import pytest
from django.test import Client
from django.utils import timezone

SERVICE = "/castres/gestion/configuration/services/restauration-scolaire/"
TARIFF = "/castres/billing/gestion/configuration/tarifs/accueil-matin/nouvelle-version/"


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _block(page, name) -> str:
    """The .field wrapper of the control named `name`."""
    match = re.search(
        rf'<div class="field[^"]*"([^>]*)>(?:(?!<div class="field).)*?name="{name}"', page, re.S
    )
    assert match, name
    return match.group(1)


def test_styleguide_shows_every_component(castres_admin):
    response = castres_admin.get("/castres/gestion/styleguide/")
    assert response.status_code == 200
    page = _page(response)
    for css in (
        "btn--primary",
        "btn--secondary",
        "btn--danger",
        "field__label",
        "field__help",
        "field__error",
        "card__title",
        "table--stack",
        "table-scroll",
        "tabs",
        "badge--ok",
        "alert--warn",
        "day-cell--booked",
        "day-cell--closed",
        "day-cell--absent",
        "swatch",
    ):
        assert css in page, css
    assert "202,13\u00a0€" in page and "lundi 7 décembre 2026" in page and "lun. 7 déc." in page
    assert "le code personnel" in page and "la clé Enfance" in page  # Castres' own word first
    # Reached from the staff home.
    assert "/castres/gestion/styleguide/" in _page(castres_admin.get("/castres/gestion/"))


@pytest.mark.parametrize(
    "path", ["/castres/nulle-part/", "/ville-inconnue/", "/castres/mon-espace/enfants/999999/"]
)
def test_404_is_french_in_the_towns_style(client, castres, path):
    response = client.get(path)
    assert response.status_code in (404, 302)
    if response.status_code == 404:
        page = _page(response)
        assert "Page introuvable" in page and "ui/ui.css" in page and "Not Found" not in page


def test_403_and_csrf_failure_are_french(castres):
    from families.testing import login, make_staff

    agent = Client()
    login(agent, castres, make_staff(castres, username="agent-alsh", role="agent", areas=["alsh"]))
    response = agent.get("/castres/gestion/configuration/")
    assert response.status_code == 403
    page = _page(response)
    assert "Accès refusé" in page and "Castres" in page and "Forbidden" not in page
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/castres/compte/connexion/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    page = _page(response)
    assert "vérification de sécurité du formulaire" in page and "CSRF verification" not in page


def test_500_page_never_fails_and_keeps_the_event_id(rf, castres, in_town, settings):
    from django.contrib.auth.models import AnonymousUser

    from core.error_pages import server_error

    request = rf.get("/castres/")
    request.commune, request.user, request.sentry_event_id = castres, AnonymousUser(), "abc123"
    with in_town(castres):
        response = server_error(request)  # the town's page
    page = _page(response)
    assert response.status_code == 500 and "ui/ui.css" in page
    assert "Erreur du serveur" in page and "abc123" in page and "Server Error" not in page
    # The town's page cannot be drawn (here a broken template set-up): a plain French page.
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [
        {**engine, "OPTIONS": {**engine["OPTIONS"], "context_processors": ["core.no_such.thing"]}}
    ]
    response = server_error(request)
    page = _page(response)
    assert response.status_code == 500 and "ui/ui.css" not in page
    assert "Erreur du serveur" in page and "abc123" in page
    api = rf.get("/castres/api/alsh/reservations/")
    assert server_error(api)["Content-Type"] == "application/problem+json"


def test_400_page(rf):
    from core.error_pages import bad_request

    response = bad_request(rf.get("/"))
    assert response.status_code == 400 and "Requête incorrecte" in _page(response)


def test_deadline_form_shows_only_the_chosen_rules_fields(castres_admin):
    page = _page(castres_admin.get(SERVICE))  # Castres: 7 days before, 23:59
    for name in ("days", "time"):
        assert "hidden" not in _block(page, name), name
    for name in ("hours", "weeks", "day", "weekday"):
        assert _block(page, name).rstrip().endswith("hidden"), name
    assert 'data-show-when="rule=hours_before"' in page
    # Without JavaScript: choose another rule, ask for the preview, get its fields.
    response = castres_admin.post(
        SERVICE,
        {"name": "Restauration scolaire", "rule": "weekday_previous_week", "preview": "1"},
    )
    page = _page(response)
    for name in ("weekday", "time"):
        assert "hidden" not in _block(page, name), name
    for name in ("days", "hours", "weeks", "day"):
        assert _block(page, name).rstrip().endswith("hidden"), name


def test_tariff_form_shows_only_the_chosen_type(castres_admin):
    page = _page(castres_admin.get(TARIFF))
    kind = re.search(r'<option value="(\w+)" selected', page).group(1)
    shown = re.findall(r'<fieldset data-show-when="kind=(\w+)">', page)
    assert shown == [kind]
    assert len(re.findall(r'<fieldset data-show-when="kind=\w+" hidden>', page)) == 2
    # Without JavaScript: the « Afficher » button brings back the other type's fields.
    day = timezone.localdate() + datetime.timedelta(days=30)
    response = castres_admin.post(
        TARIFF,
        {
            "applies_from": day.isoformat(),
            "kind": "flat",
            "choose": "1",
            "grid-TOTAL_FORMS": "1",
            "grid-INITIAL_FORMS": "0",
        },
    )
    page = _page(response)
    assert re.findall(r'<fieldset data-show-when="kind=(\w+)">', page) == ["flat"]
    assert "<noscript>" in page and 'name="choose"' in page
    assert "Ce champ est obligatoire" not in page  # choosing validates nothing


def test_operator_sign_in_speaks_french(client, castres):
    from accounts.admin_site import OperatorLoginForm

    for message in OperatorLoginForm.otp_error_messages.values():
        assert "Please" not in str(message) and "device" not in str(message)
    response = client.post("/admin/login/", {"username": "personne", "password": "x"})
    page = _page(response)
    for english in ("Please", "Forbidden", "Choose", "OTP Token"):
        assert english not in page, english
