"""Per-town subpath routing (portal.routing)."""

import pytest
from django.urls import reverse

from core.urls import tenant_reverse
from tenants.onboarding import set_status


def test_platform_home_lists_the_towns(client, castres, bondoufle):
    page = client.get("/").content.decode()
    assert 'href="/castres/"' in page and 'href="/bondoufle/"' in page


@pytest.mark.parametrize(
    "slug,name,phone",
    [("castres", "Castres", "05 63 62 43 44"), ("bondoufle", "Bondoufle", "01 69 91 46 56")],
)
def test_town_home_shows_its_name_and_contacts(client, castres, bondoufle, slug, name, phone):
    response = client.get(f"/{slug}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"portail famille de {name}" in page and phone in page


def test_reverse_inside_a_request_is_prefixed(client, castres):
    page = client.get("/castres/").content.decode()
    assert 'href="/castres/periscolaire/"' in page


def test_tenant_reverse_outside_a_request(castres, bondoufle, settings):
    settings.SITE_URL = "https://portail.example"
    assert tenant_reverse(castres, "town-home") == "/castres/"
    assert tenant_reverse(bondoufle, "alsh:home") == "/bondoufle/alsh/"
    assert (
        tenant_reverse(castres, "api:town", absolute=True)
        == "https://portail.example/castres/api/commune/"
    )
    assert reverse("town-home") == "/"  # the script prefix did not leak out of requests


def test_unknown_town_gets_a_friendly_404(client, db):
    response = client.get("/atlantis/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
    assert "choisissez votre commune" in response.content.decode()


def test_unknown_page_of_a_town_gets_its_404(client, castres):
    response = client.get("/castres/nulle-part/")
    assert response.status_code == 404
    assert "Retour à l'accueil de Castres" in response.content.decode()


def test_old_portal_path_and_missing_slash_redirect(client, castres):
    assert client.get("/ville-castres/").headers["Location"] == "/castres/"
    assert (
        client.get("/ville-castres/api/commune/?x=1").headers["Location"]
        == "/castres/api/commune/?x=1"
    )
    assert client.get("/castres").headers["Location"] == "/castres/"
    assert client.get("/Castres/").headers["Location"] == "/castres/"


def test_reserved_paths_stay_public(client, castres):
    assert client.get("/health/").json() == {"status": "ok"}
    assert client.get("/admin/").status_code == 302


def test_disabled_module_is_unreachable_page_and_api(client, db, tmp_path):
    from tenants.onboarding import onboard_files

    onboard_files([__import__("django.conf").conf.settings.TENANT_CONFIGS_DIR / "donges.yaml"])
    # Donges has no ALSH: neither its pages nor its API answer there.
    assert client.get("/donges/alsh/").status_code == 404
    api = client.get("/donges/api/alsh/")
    assert api.status_code == 404
    assert api["Content-Type"] == "application/problem+json"
    assert api.json()["detail"] == "Ce service n'est pas proposé par cette commune."
    assert client.get("/donges/api/periscolaire/").status_code == 200
    assert client.get("/donges/").content.decode().count("/donges/alsh/") == 0


def test_enabled_module_api_lists_the_town_services(client, castres):
    data = client.get("/castres/api/alsh/").json()
    assert data["module"] == "alsh"
    assert [s["code"] for s in data["services"]] == ["alsh-mercredi", "alsh-vacances"]


def test_suspended_town_shows_maintenance_and_keeps_data(client, castres):
    set_status(castres, "suspended")
    response = client.get("/castres/api/commune/")
    assert response.status_code == 503
    assert "en maintenance" in response.content.decode()
    assert 'href="/castres/"' not in client.get("/").content.decode()
    set_status(castres, "active")
    assert client.get("/castres/api/commune/").json()["name"] == "Castres"


def test_openapi_schema_generates_per_town(client, castres):
    response = client.get("/castres/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/castres/api/commune/" in str(response.content) or "/api/commune/" in str(
        response.content
    )


def test_api_docs_page_loads_its_assets_from_our_static_files(client, castres):
    page = client.get("/castres/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn." not in page
