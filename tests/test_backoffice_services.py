"""Town admins configure services without a developer (issue #7): places per
site, options, a new service, retiring one. Validated, versioned, in force at once;
bad input refused in French with nothing saved."""

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from booking.models import Activity
from core.models import Service
from families.testing import login, make_staff
from tenants.models import Commune, ConfigVersion

pytestmark = pytest.mark.django_db
URL = "/castres/gestion/configuration/services/restauration-scolaire/options/"
NEW_SERVICE = {
    "kind": "accueil_soir",
    "code": "accueil-soir-laden",
    "name": "Accueil du soir de Laden",
    "site_code": "ecole-laden",
    "site_name": "École de Laden",
    "capacity": "25",
    "days": "2",
}


@pytest.fixture
def admin_client(castres_admin):
    return castres_admin


def _form(**overrides):
    data = {
        "lieux-TOTAL_FORMS": "3",
        "lieux-INITIAL_FORMS": "2",
        "lieux-MIN_NUM_FORMS": "0",
        "lieux-MAX_NUM_FORMS": "1000",
        "lieux-0-code": "ecole-centre",
        "lieux-0-name": "Groupe scolaire du centre",
        "lieux-0-capacity": "120",
        "lieux-1-code": "ecole-lameilhe",
        "lieux-1-name": "Groupe scolaire de Lameilhé",
        "lieux-1-capacity": "90",
        "lieux-2-code": "",
        "lieux-2-name": "",
        "lieux-2-capacity": "",
        "registration": "auto",
        "min_age_months": "30",
        "max_age_months": "155",
        "waiting_mode": "promote",
        "justification": "optional",
        "report_days_after": "7",
        "message": "",
    }
    data.update(overrides)
    return data


def _service(slug, code):
    return next(s for s in Commune.objects.get(slug=slug).config["services"] if s["code"] == code)


def test_the_form_shows_the_current_sites_and_options(admin_client):
    page = admin_client.get(URL).content.decode()
    assert 'value="Groupe scolaire de Lameilhé"' in page and 'value="90"' in page
    assert 'value="155"' in page


def test_add_a_site_change_capacity_and_options_in_force_at_once(castres, admin_client):
    versions = ConfigVersion.objects.filter(commune=castres).count()
    response = admin_client.post(
        URL,
        _form(
            **{
                "lieux-1-capacity": "95",
                "lieux-2-code": "ecole-laden",
                "lieux-2-name": "École de Laden",
                "lieux-2-address": "Rue de Laden",
                "lieux-2-capacity": "40",
                "registration": "validation",
                "waiting_mode": "offer",
                "offer_hours": "48",
                "max_advance_days": "90",
                "message": "Nouvelle école",
            }
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    service = _service("castres", "restauration-scolaire")
    assert service["options"]["sites"][1]["capacity"] == 95
    assert service["options"]["sites"][2] == {
        "code": "ecole-laden",
        "name": "École de Laden",
        "capacity": 40,
        "address": "Rue de Laden",
    }
    assert service["options"]["registration"] == "validation"
    assert service["options"]["waiting_list"] == {"mode": "offer", "offer_hours": 48}
    assert service["deadlines"]["max_advance_days"] == 90
    assert service["deadlines"]["booking"]["days"] == 7  # untouched
    assert ConfigVersion.objects.filter(commune=castres).count() == versions + 1
    assert (
        ConfigVersion.objects.filter(commune=castres).latest("number").message == "Nouvelle école"
    )
    with tenant_context(Commune.objects.get(slug="castres")):
        laden = Activity.objects.get(code="restauration-scolaire--ecole-laden")
        assert laden.default_capacity == 40 and laden.is_active
        assert (
            Activity.objects.get(code="restauration-scolaire--ecole-lameilhe").default_capacity
            == 95
        )


def test_removing_a_site_switches_its_activity_off(castres, admin_client):
    response = admin_client.post(URL, _form(**{"lieux-1-DELETE": "on"}))
    assert response.status_code == 302
    assert [
        s["code"] for s in _service("castres", "restauration-scolaire")["options"]["sites"]
    ] == ["ecole-centre"]
    with tenant_context(Commune.objects.get(slug="castres")):
        assert not Activity.objects.get(code="restauration-scolaire--ecole-lameilhe").is_active


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"lieux-1-code": "ecole-centre"}, "même code"),
        ({"lieux-1-code": "École Lameilhé"}, "Lettres minuscules sans accent"),
        ({"lieux-1-capacity": "-3"}, "supérieure ou égale à 0"),
        ({"min_age_months": "200", "max_age_months": "30"}, "âge maximum"),
        ({"report_days_after": "500"}, "inférieure ou égale à 60"),
        ({"registration": "sur-rendez-vous"}, "Sélectionnez un choix valide"),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_saved(
    castres, admin_client, overrides, words
):
    before = Commune.objects.get(slug="castres").config
    versions = ConfigVersion.objects.count()
    response = admin_client.post(URL, _form(**overrides))
    assert response.status_code == 422
    assert words in response.content.decode()
    assert "Rien n'a été enregistré" in response.content.decode()
    assert Commune.objects.get(slug="castres").config == before
    assert ConfigVersion.objects.count() == versions


def test_create_a_new_service_bookable_after_opening_days(castres, admin_client):
    page = admin_client.get("/castres/gestion/configuration/nouveau-service/").content.decode()
    assert "Accueil périscolaire du soir (Périscolaire" in page
    response = admin_client.post("/castres/gestion/configuration/nouveau-service/", NEW_SERVICE)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"].endswith("/services/accueil-soir-laden/options/")
    service = _service("castres", "accueil-soir-laden")
    assert service["deadlines"]["booking"] == {"rule": "days_before", "days": 2, "time": "23:59"}
    with tenant_context(Commune.objects.get(slug="castres")):
        assert Service.objects.get(code="accueil-soir-laden").module == "periscolaire"
        assert Activity.objects.get(code="accueil-soir-laden--ecole-laden").default_capacity == 25
    # It is now on the configuration page, with its own options page.
    assert (
        admin_client.get(
            "/castres/gestion/configuration/services/accueil-soir-laden/options/"
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"code": "restauration-scolaire"}, "déjà ce code"),
        ({"kind": "creche_reguliere_inconnue"}, "Sélectionnez un choix valide"),
        ({"code": "Accueil Soir"}, "Lettres minuscules sans accent"),
        ({"capacity": ""}, "Ce champ est obligatoire"),
    ],
)
def test_new_service_bad_input(castres, admin_client, overrides, words):
    data = {**NEW_SERVICE, **overrides}
    before = Commune.objects.get(slug="castres").config
    response = admin_client.post("/castres/gestion/configuration/nouveau-service/", data)
    assert response.status_code == 422
    assert words in response.content.decode()
    assert Commune.objects.get(slug="castres").config == before


def test_a_kind_of_a_disabled_module_cannot_be_created(bondoufle):
    client = Client()
    login(client, bondoufle, make_staff(bondoufle, username="admin-b", role="town_admin"))
    enabled = set(Commune.objects.get(slug="bondoufle").config["modules"])
    page = client.get("/bondoufle/gestion/configuration/nouveau-service/").content.decode()
    if "petite_enfance" not in enabled:
        assert "creche_reguliere" not in page


def test_retire_a_service_keeps_its_rows_switched_off(castres, admin_client):
    response = admin_client.post("/castres/gestion/configuration/services/etudes-dirigees/retirer/")
    assert response.status_code == 302
    config = Commune.objects.get(slug="castres").config
    assert "etudes-dirigees" not in [s["code"] for s in config["services"]]
    assert "etudes-dirigees" not in config["module_settings"]["billing"]["services"]
    with tenant_context(Commune.objects.get(slug="castres")):
        assert Service.objects.get(code="etudes-dirigees").is_active is False


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_only_town_admins_reach_service_configuration(castres, role):
    client = Client()
    login(client, castres, make_staff(castres, username=f"s-{role}", role=role))
    assert client.get(URL).status_code == 403
    assert client.get("/castres/gestion/configuration/nouveau-service/").status_code == 403
    assert (
        client.post("/castres/gestion/configuration/services/etudes-dirigees/retirer/").status_code
        == 403
    )
    assert "etudes-dirigees" in [
        s["code"] for s in Commune.objects.get(slug="castres").config["services"]
    ]


def test_unknown_service_is_404(admin_client):
    assert (
        admin_client.get("/castres/gestion/configuration/services/inconnu/options/").status_code
        == 404
    )
