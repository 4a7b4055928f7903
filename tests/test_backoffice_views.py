"""Back-office work views: search with constant queries, the family file and
its access log, exports, configuration forms refusing bad input in French,
module toggles in force at once."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from families.testing import make_family
from tenants.models import Commune, ConfigVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(castres_admin):
    return castres_admin


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_families_search_finds_by_child_and_email_with_constant_queries(castres, admin_client):
    make_family(castres, key="alpha", last_name="Alpha")
    few = _queries(admin_client, "/castres/gestion/familles/")
    for i in range(6):
        make_family(castres, key=f"f{i}", last_name=f"Nom{i}")
    assert _queries(admin_client, "/castres/gestion/familles/") == few
    page = admin_client.get("/castres/gestion/familles/?q=enfant1 alpha").content.decode()
    assert "Famille Alpha" in page and "Famille Nom1" not in page
    assert (
        "Famille Nom3"
        in admin_client.get("/castres/gestion/familles/?q=f3@example.org").content.decode()
    )


def test_family_file_shows_health_and_entourage_and_logs_the_access(castres, admin_client):
    from backoffice.models import AccessLog

    fam = make_family(castres, key="alpha", last_name="Alpha")
    page = admin_client.get(f"/castres/gestion/familles/{fam.household.pk}/").content.decode()
    assert "arachide (Alpha)" in page and "Grand-parent Alpha" in page
    with tenant_context(castres):
        assert AccessLog.objects.filter(household=fam.household).count() == 1


def test_exports_csv_and_xlsx(castres, admin_client):
    from openpyxl import load_workbook

    make_family(castres, key="alpha", last_name="Alpha")
    csv_text = admin_client.get("/castres/gestion/exports/familles.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Foyer;Adresse")
    assert "Famille Alpha" in csv_text
    xlsx = admin_client.get("/castres/gestion/exports/familles.xlsx").content
    rows = list(load_workbook(io.BytesIO(xlsx)).active.values)
    assert rows[0][0] == "Foyer" and rows[1][0] == "Famille Alpha"


def test_service_form_refuses_a_bad_time_in_french_and_saves_nothing(castres, admin_client):
    versions = ConfigVersion.objects.count()
    response = admin_client.post(
        "/castres/gestion/configuration/services/restauration-scolaire/",
        {
            "name": "Restauration scolaire",
            "rule": "days_before",
            "days": "3",
            "time": "25:99",
            "save": "1",
        },
    )
    assert response.status_code == 422
    assert "format attendu" in response.content.decode() or "HH:MM" in response.content.decode()
    assert ConfigVersion.objects.count() == versions
    assert (
        Commune.objects.get(slug="castres").config["services"][0]["deadlines"]["booking"]["days"]
        == 7
    )


def test_preview_fragment(admin_client):
    response = admin_client.get(
        "/castres/gestion/configuration/services/restauration-scolaire/apercu/"
        "?rule=days_before&days=3&time=23:59&preview_day=2025-03-12"
    )
    assert "dimanche 9 mars 2025 à 23:59" in response.content.decode()


def test_switching_a_module_off_hides_its_pages_at_once(castres, admin_client):
    assert admin_client.get("/castres/alsh/").status_code == 200
    response = admin_client.post(
        "/castres/gestion/configuration/modules/",
        {"modules": ["periscolaire", "petite_enfance", "billing"], "message": "ALSH fermé"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert admin_client.get("/castres/alsh/").status_code == 404
