"""The town's general settings and data-protection notices have forms (issue #7:
configure everything the YAML holds without editing files): shown from the
config, saved as a version, in force at once, bad input refused in French."""

import html

import pytest

from tenants.models import Commune, ConfigVersion

pytestmark = pytest.mark.django_db
TOWN = "/castres/gestion/configuration/commune/"
DP = "/castres/gestion/configuration/donnees-personnelles/"


def _config():
    return Commune.objects.get(slug="castres").config


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _town_post(**overrides):
    data = {
        "website": "https://www.ville-castres.fr",
        "school_holiday_zone": "C",
        "aliases": "ville-castres",
        "activation_key_label": "code personnel",
        **{
            f"change_{c}": ""
            for c in (
                "contacts",
                "address",
                "entourage_add",
                "entourage_remove",
                "health_sheet",
                "quotient_familial",
                "child_add",
            )
        },
    }
    data.update(overrides)
    return data


def test_town_settings_form_shows_the_config(castres_admin):
    page = _page(castres_admin.get(TOWN))
    assert 'value="https://www.ville-castres.fr"' in page
    assert 'value="ville-castres"' in page and 'value="code personnel"' in page
    assert "par défaut (modification après validation par les services)" in page  # QF


def test_town_settings_saved_with_a_version_and_in_force_at_once(castres, castres_admin, client):
    versions = ConfigVersion.objects.filter(commune=castres).count()
    response = castres_admin.post(
        TOWN,
        _town_post(
            aliases="ville-castres, espace-famille-castres",
            change_address="validation",
            activation_key_label="clé Enfance",
            message="Nouvel alias",
        ),
    )
    assert response.status_code == 302, _page(response)[:3000]
    config = _config()
    assert config["aliases"] == ["ville-castres", "espace-famille-castres"]
    assert config["family_changes"] == {"address": "validation"}
    assert config["accounts"] == {"activation_key_label": "clé Enfance"}
    latest = ConfigVersion.objects.filter(commune=castres).latest("number")
    assert latest.number == versions + 1 and latest.message == "Nouvel alias"
    # The new alias redirects to the town at once.
    redirect = client.get("/espace-famille-castres/")
    assert redirect.status_code in (301, 302) and "/castres/" in redirect["Location"]


def test_empty_values_remove_optional_keys(castres_admin):
    castres_admin.post(TOWN, _town_post(aliases="", activation_key_label="", website=""))
    config = _config()
    assert "aliases" not in config and "accounts" not in config and "website" not in config


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"aliases": "ville castres"}, "Un alias ne contient que"),
        ({"aliases": "bondoufle"}, "bondoufle"),  # another town's slug
        ({"website": "pas une adresse"}, "Saisissez une URL valide"),
        ({"school_holiday_zone": "D"}, "Sélectionnez un choix valide"),
        ({"activation_key_label": "ab"}, "au moins 3 caractères"),
        ({"change_address": "parfois"}, "Sélectionnez un choix valide"),
    ],
)
def test_bad_town_settings_are_refused_in_french_and_nothing_saved(castres_admin, overrides, words):
    before = _config()
    versions = ConfigVersion.objects.count()
    response = castres_admin.post(TOWN, _town_post(**overrides))
    assert response.status_code == 422
    assert words in _page(response)
    assert _config() == before and ConfigVersion.objects.count() == versions


def test_data_protection_form_saves_and_the_public_page_shows_it(castres_admin, client):
    response = castres_admin.post(
        DP,
        {
            "controller": "Commune de Castres, représentée par son maire",
            "dpo_name": "Délégué mutualisé du Tarn",
            "dpo_email": "dpo@castres.example",
            "host_name": "Hébergeur public",
            "host_address": "1 rue des Serveurs, 81000 Albi",
            "retention_years": "4",
        },
    )
    assert response.status_code == 302, _page(response)[:3000]
    dp = _config()["data_protection"]
    assert dp["dpo"] == {"name": "Délégué mutualisé du Tarn", "email": "dpo@castres.example"}
    assert dp["host"] == {"name": "Hébergeur public", "address": "1 rue des Serveurs, 81000 Albi"}
    assert dp["retention_years"] == 4
    assert "dpo@castres.example" in _page(client.get("/castres/donnees-personnelles/"))
    assert _page(castres_admin.get(DP)).count('value="Hébergeur public"') == 1


@pytest.mark.parametrize(
    "data, words",
    [
        ({"dpo_name": "Quelqu'un"}, "Donnez l'e-mail ou l'adresse postale du délégué"),
        ({"dpo_email": "pas-un-email"}, "Saisissez une adresse e-mail valide"),
        ({"host_address": "1 rue"}, "Donnez le nom de l'hébergeur"),
        ({"retention_years": "20"}, "inférieure ou égale à 10"),
        ({"dpo_email": "dpo@castres.example", "dpo_phone": "12"}, "numéro de téléphone"),
    ],
)
def test_bad_data_protection_is_refused_in_french_and_nothing_saved(castres_admin, data, words):
    before = _config()
    response = castres_admin.post(DP, data)
    assert response.status_code == 422
    assert words in _page(response)
    assert _config() == before


@pytest.mark.parametrize("url", [TOWN, DP])
def test_only_town_admins(castres, url):
    from django.test import Client

    from families.testing import login, make_staff

    client = Client()
    login(client, castres, make_staff(castres, username="resp", role="manager"))
    assert client.get(url).status_code == 403
    assert client.post(url, _town_post(aliases="x")).status_code == 403
    assert "x" not in (_config().get("aliases") or [])


# --- billing: régies and direct debit ------------------------------------------------------

BILLING = "/castres/billing/gestion/configuration/regies/"


def _billing():
    return _config()["module_settings"]["billing"]


def _regies_post(*regies, message=""):
    data = {
        "what": "regies",
        "regies-TOTAL_FORMS": str(len(regies)),
        "regies-INITIAL_FORMS": "0",
        "regies-MIN_NUM_FORMS": "0",
        "regies-MAX_NUM_FORMS": "1000",
        "message": message,
    }
    for i, (code, name, services) in enumerate(regies):
        data.update({f"regies-{i}-code": code, f"regies-{i}-name": name})
        data[f"regies-{i}-services"] = services
    return data


def test_regies_are_saved_and_cleared(castres, castres_admin):
    page = _page(castres_admin.get(BILLING))
    assert "Restauration scolaire" in page and "Régies" in page
    response = castres_admin.post(
        BILLING,
        _regies_post(
            ("scolaire", "Régie scolaire", ["restauration-scolaire", "accueil-matin"]),
            ("loisirs", "Régie loisirs", ["alsh-mercredi"]),
            message="Deux régies",
        ),
    )
    assert response.status_code == 302, _page(response)[:3000]
    assert _billing()["regies"][0] == {
        "code": "scolaire",
        "name": "Régie scolaire",
        "services": ["restauration-scolaire", "accueil-matin"],
    }
    assert ConfigVersion.objects.filter(commune=castres).latest("number").message == "Deux régies"
    castres_admin.post(BILLING, _regies_post())
    assert "regies" not in _billing()  # back to one régie per module


@pytest.mark.parametrize(
    "regies, words",
    [
        (
            [("a", "A", ["restauration-scolaire"]), ("b", "B", ["restauration-scolaire"])],
            "déjà dans une autre régie",
        ),
        ([("a", "A", []), ("a", "B", [])], "même code"),
        ([("Régie A", "A", [])], "Lettres minuscules sans accent"),
        ([("a", "A", ["inconnu"])], "Sélectionnez un choix valide"),
    ],
)
def test_bad_regies_are_refused_in_french_and_nothing_saved(castres_admin, regies, words):
    before = _config()
    response = castres_admin.post(BILLING, _regies_post(*regies))
    assert response.status_code == 422
    assert words in _page(response)
    assert _config() == before


DEBIT = {
    "what": "prelevement",
    "offered": "on",
    "creditor_name": "Ville de Castres",
    "creditor_id": "FR72ZZZ123456",
    "iban": "FR76 3000 1000 6400 0000 0000 137",
    "bic": "BDFEFRPP",
    "starts": "september",
}


def test_direct_debit_offered_then_withdrawn(castres_admin):
    response = castres_admin.post(BILLING, DEBIT)
    assert response.status_code == 302, _page(response)[:3000]
    assert _billing()["direct_debit"] == {
        "creditor_name": "Ville de Castres",
        "creditor_id": "FR72ZZZ123456",
        "iban": "FR7630001000640000000000137",
        "bic": "BDFEFRPP",
        "starts": "september",
    }
    assert 'value="FR7630001000640000000000137"' in _page(castres_admin.get(BILLING))
    castres_admin.post(BILLING, {"what": "prelevement"})
    assert "direct_debit" not in _billing()


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"iban": "FR76 3000 1000 6400 0000 0000 138"}, "IBAN"),
        ({"creditor_id": ""}, "Obligatoire pour proposer le prélèvement"),
        ({"bic": "pas un bic!"}, "bic"),
    ],
)
def test_bad_direct_debit_is_refused_in_french_and_nothing_saved(castres_admin, overrides, words):
    before = _config()
    response = castres_admin.post(BILLING, {**DEBIT, **overrides})
    assert response.status_code == 422
    assert words in _page(response)
    assert _config() == before


def test_billing_settings_need_the_billing_module(castres_admin):
    # Billing cannot go while online payment is set: said in French, not a 500.
    modules = "/castres/gestion/configuration/modules/"
    refused = castres_admin.post(modules, {"modules": ["periscolaire", "alsh", "petite_enfance"]})
    assert refused.status_code == 422
    assert "le paiement en ligne demande le module « billing »" in _page(refused)
    no_payment = castres_admin.post(
        "/castres/billing/gestion/configuration/paiement/", {"provider": "none", "save": "1"}
    )
    assert no_payment.status_code == 302
    done = castres_admin.post(modules, {"modules": ["periscolaire", "alsh", "petite_enfance"]})
    assert done.status_code == 302, _page(done)[:3000]
    assert castres_admin.get(BILLING).status_code == 404


# --- billing: the town's Hélios identifiers (PES V2) ---------------------------------------

HELIOS = {
    "what": "helios",
    "sends": "on",
    "poste_comptable": "081010",
    "siret": "218 100 650 00009",
    "code_collectivite": "065",
    "code_budget": "00",
    "code_nature": "01",
    "code_produit": "ENF",
    "nature": "7067",
    "libelle": "Périscolaire et restauration — Zoë",
    "proximity_payment": "on",
}


def test_helios_identifiers_edited_then_withdrawn(castres_admin):
    page = _page(castres_admin.get(BILLING))
    assert "Trésorerie : identifiants Hélios" in page and 'value="081010"' in page
    response = castres_admin.post(BILLING, {**HELIOS, "nature": "70688"})
    assert response.status_code == 302, _page(response)[:3000]
    assert _billing()["helios"] == {
        "poste_comptable": "081010",
        "siret": "21810065000009",
        "code_collectivite": "065",
        "code_budget": "00",
        "code_nature": "01",
        "code_produit": "ENF",
        "nature": "70688",
        "libelle": "Périscolaire et restauration — Zoë",
        "proximity_payment": True,
    }
    castres_admin.post(BILLING, {"what": "helios"})
    assert "helios" not in _billing()


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"siret": "21810065000008"}, "La clé de contrôle du SIRET est fausse"),
        ({"siret": "2181006500000"}, "Format attendu : 14 chiffres."),
        ({"poste_comptable": ""}, "Obligatoire pour transmettre les titres."),
        ({"code_collectivite": "０６５"}, "Format attendu : 3 chiffres."),
        ({"code_produit": "ENFANCE"}, "1 à 4 lettres ou chiffres"),
        ({"fonction": "2-1"}, "1 à 10 lettres ou chiffres"),
    ],
)
def test_bad_helios_identifiers_are_refused_in_french_and_nothing_saved(
    castres_admin, overrides, words
):
    before = _config()
    response = castres_admin.post(BILLING, {**HELIOS, **overrides})
    assert response.status_code == 422
    assert words in _page(response)
    assert "helios." not in _page(response)  # no internal key shown
    assert _config() == before
