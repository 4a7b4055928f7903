"""Family API at /<slug>/api/famille/: same operations, problem+json errors in French."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from demandes.models import Demande
from families.models import EntourageMember, HealthSheet, Household
from families.testing import PDF_BYTES, login

pytestmark = pytest.mark.django_db

API = "/castres/api/famille/"


@pytest.fixture
def api(durand):
    client = APIClient()
    login(client, durand.commune, durand.user)
    return client


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_household_and_children(api, durand):
    response = api.get(API + "foyer/")
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["name"] == "Famille Durand" and body["quotient_familial"] == 650
    assert body["adults"][0]["email"] == "durand@example.org"
    children = api.get(API + "enfants/").json()
    assert [c["first_name"] for c in children] == ["Enfant1", "Enfant2"]
    assert children[0]["guardians"] == ["Camille Durand"]


def test_address_put_applies_at_once(api, durand, castres):
    response = api.put(
        API + "foyer/",
        {"address_line": "1 place Jean Jaurès", "postcode": "81100", "city": "Castres"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["applied"] is True
    with tenant_context(castres):
        assert Household.objects.get(pk=durand.household.pk).address_line == "1 place Jean Jaurès"


@pytest.mark.parametrize(
    "url, method, data, field, message",
    [
        (
            "foyer/",
            "put",
            {"address_line": "x", "postcode": "811", "city": "Castres"},
            "postcode",
            "Le code postal doit comporter 5 chiffres.",
        ),
        (
            "foyer/coordonnees/",
            "put",
            {"email": "nope", "phone": "0612345678"},
            "email",
            "Saisissez une adresse e-mail valide.",
        ),
        (
            "foyer/coordonnees/",
            "put",
            {"email": "a@example.org", "phone": "+44 20 7946 0958"},
            "phone",
            "Numéro de téléphone invalide : saisissez 10 chiffres (ex. 06 12 34 56 78).",
        ),
        (
            "foyer/quotient-familial/",
            "post",
            {
                "quotient_familial": -1,
                "qf_source": "caf",
                "qf_date": "2026-01-01",
                "allocataire_regime": "caf",
                "allocataire_number": "1234567",
            },
            "quotient_familial",
            "Assurez-vous que cette valeur est supérieure ou égale à 0.",
        ),
        (
            "foyer/quotient-familial/",
            "post",
            {
                "quotient_familial": 500,
                "qf_source": "caf",
                "qf_date": "2026-01-01",
                "allocataire_regime": "caf",
            },
            "allocataire_number",
            "Indiquez votre numéro d'allocataire CAF ou MSA.",
        ),
        (
            "entourage/",
            "post",
            {"first_name": "A", "last_name": "B", "phone": "0611223344"},
            "non_field_errors",
            "Cochez au moins un rôle : venir chercher l'enfant ou être prévenu en cas d'urgence.",
        ),
        (
            "enfants/",
            "post",
            {"first_name": "A", "last_name": "B", "birth_date": "31/02/2020"},
            "birth_date",
            None,
        ),
    ],
)
def test_bad_input_is_a_french_problem_and_saves_nothing(
    api, castres, url, method, data, field, message
):
    body = _problem(getattr(api, method)(API + url, data, format="json"), 400)
    assert body["detail"] == "Certaines données sont invalides."
    assert field in body["errors"]
    if message:
        assert message in [m.replace("\xa0", " ") for m in body["errors"][field]]
    else:
        assert "date" in body["errors"][field][0].lower()
    with tenant_context(castres):
        assert not Demande.objects.exists()
        assert EntourageMember.objects.count() == 1
        assert Household.objects.get().address_line == "3 rue des Lilas"


def test_qf_and_child_become_demandes(api, castres):
    qf = api.post(
        API + "foyer/quotient-familial/",
        {
            "quotient_familial": 910,
            "qf_source": "msa",
            "qf_date": "2026-05-02",
            "allocataire_regime": "msa",
            "allocataire_number": "A1234567",
        },
        format="json",
    )
    assert qf.status_code == 202
    assert qf.json()["demande"]["status"] == "submitted"
    child = api.post(
        API + "enfants/",
        {"first_name": "Noé", "last_name": "Durand", "birth_date": "2024-02-03"},
        format="json",
    )
    assert child.status_code == 202
    listing = api.get(API + "demandes/").json()
    assert {d["kind"] for d in listing} == {"quotient_familial", "child_add"}
    detail = api.get(API + f"demandes/{qf.json()['demande']['id']}/").json()
    assert (
        detail["history"][0]["author"] == "Vous"
        and detail["history"][0]["to_status"] == "submitted"
    )
    assert {"label": "Quotient familial", "value": "910"} in detail["details"]


def test_health_sheet_get_and_put(api, durand, castres):
    child = durand.children[0]
    assert api.get(API + f"enfants/{child.pk}/sante/").json()["allergies"] == "arachide (Durand)"
    response = api.put(
        API + f"enfants/{child.pk}/sante/",
        {
            "allergies": "",
            "diet": "medical",
            "pai": True,
            "doctor_phone": "05 63 11 22 33",
            "emergency_care_allowed": True,
        },
        format="json",
    )
    assert response.status_code == 200
    with tenant_context(castres):
        sheet = HealthSheet.objects.get(child=child)
        assert (sheet.diet, sheet.pai, sheet.allergies) == ("medical", True, "")
    bad = api.put(API + f"enfants/{child.pk}/sante/", {"diet": "sans_porc"}, format="json")
    assert "diet" in _problem(bad, 400)["errors"]


def test_entourage_add_and_delete(api, castres):
    created = api.post(
        API + "entourage/",
        {"first_name": "Sam", "last_name": "Voisin", "phone": "0611223344", "can_pick_up": True},
        format="json",
    )
    assert created.status_code == 201
    members = api.get(API + "entourage/").json()
    sam = next(m for m in members if m["first_name"] == "Sam")
    assert api.delete(API + f"entourage/{sam['id']}/").status_code == 200
    with tenant_context(castres):
        assert not EntourageMember.objects.filter(pk=sam["id"]).exists()


def test_messages_cancel_and_attachment(api, castres, durand, settings, tmp_path):
    from families.testing import use_tmp_media

    use_tmp_media(settings, tmp_path)
    qf = api.post(
        API + "foyer/quotient-familial/",
        {
            "quotient_familial": 910,
            "qf_source": "caf",
            "qf_date": "2026-05-02",
            "allocataire_regime": "caf",
            "allocataire_number": "1234567",
        },
        format="json",
    ).json()["demande"]
    sent = api.post(
        API + f"demandes/{qf['id']}/messages/",
        {
            "message": "Attestation jointe.",
            "attachment": SimpleUploadedFile("a.pdf", PDF_BYTES),
        },
        format="multipart",
    )
    assert sent.status_code == 201
    url = sent.json()["attachments"][0]["url"]
    assert url.startswith(f"/castres/api/famille/demandes/{qf['id']}/pieces/")
    assert api.get(url)["Content-Disposition"].startswith("attachment;")
    empty = api.post(API + f"demandes/{qf['id']}/messages/", {"message": " "}, format="json")
    assert "Écrivez un message" in str(_problem(empty, 400)["errors"])
    assert api.post(API + f"demandes/{qf['id']}/annuler/").json()["status"] == "cancelled"
    again = _problem(api.post(API + f"demandes/{qf['id']}/annuler/"), 409)
    assert again["detail"] == "Cette demande ne peut plus être annulée."


def test_anonymous_gets_a_french_problem(castres):
    body = _problem(APIClient().get(API + "foyer/"), 403)
    assert body["detail"] == "Informations d'authentification non fournies."


def test_schema_generates_without_warnings(client, castres):
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    response = client.get("/castres/api/schema/")
    assert response.status_code == 200
    assert not GENERATOR_STATS  # no warning nor error emitted by drf-spectacular
    schema = response.content.decode()
    for path in (
        "/api/famille/foyer/",
        "/api/famille/enfants/{id}/sante/",
        "/api/famille/demandes/{id}/messages/",
        "/api/famille/entourage/{id}/",
    ):
        assert path in schema
