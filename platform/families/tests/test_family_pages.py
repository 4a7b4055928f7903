"""Family pages: what « Mon espace » shows and changes (famille Durand à Castres)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from demandes.models import Demande
from families.models import EntourageMember, Household
from families.testing import login, make_family
from tenants.testing import set_family_changes

pytestmark = pytest.mark.django_db

BASE = "/castres/mon-espace/"


def test_dashboard_shows_the_guides_tiles(durand_client, durand):
    response = durand_client.get(BASE)
    assert response.status_code == 200
    html = response.content.decode()
    for tile in (  # the guides' « Mon tableau de bord » (Castres, Bassens, Bondoufle)
        "Dernières demandes",
        "Mes factures",
        "Pièces justificatives",
        "Coffre-fort personnel",
        "Coordonnées",
        "Édition de documents",
        "Ma famille",
        "Quotient familial",
    ):
        assert tile in html
    assert "no-store" in response["Cache-Control"]


def test_anonymous_is_sent_to_login(client, castres, settings):
    settings.LOGIN_URL = "/connexion/"  # the accounts app owns the real login page
    response = client.get(BASE)
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_ma_famille_has_one_card_per_child(durand_client, durand):
    html = durand_client.get(BASE + "famille/").content.decode()
    assert html.count('class="tile"') == 2
    assert "Enfant1 Durand" in html and "Enfant2 Durand" in html


def test_address_change_is_applied_at_once(
    durand_client, durand, castres, django_capture_on_commit_callbacks
):
    response = durand_client.post(
        BASE + "coordonnees/",
        {
            "section": "address",
            "address-address_line": "12 avenue de la Gare",
            "address-postcode": "81100",
            "address-city": "Castres",
        },
    )
    assert response.status_code == 302
    with tenant_context(castres):
        household = Household.objects.get(pk=durand.household.pk)
        assert household.address_line == "12 avenue de la Gare"
        assert not Demande.objects.exists()


@pytest.mark.parametrize(
    "fields, field, message",
    [
        (
            {"address-postcode": "8110"},
            "address-postcode",
            "Le code postal doit comporter 5 chiffres.",
        ),
        (
            {"address-postcode": "ABCDE"},
            "address-postcode",
            "Le code postal doit comporter 5 chiffres.",
        ),
        ({"address-address_line": ""}, "address-address_line", "Ce champ est obligatoire."),
    ],
)
def test_bad_address_gives_french_message_and_saves_nothing(
    durand_client, durand, castres, fields, field, message
):
    data = {
        "section": "address",
        "address-address_line": "12 avenue de la Gare",
        "address-postcode": "81100",
        "address-city": "Castres",
        **fields,
    }
    response = durand_client.post(BASE + "coordonnees/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(castres):
        assert Household.objects.get(pk=durand.household.pk).address_line == "3 rue des Lilas"


@pytest.mark.parametrize(
    "email, phone, message",
    [
        ("pas-une-adresse", "06 12 34 56 78", "Saisissez une adresse e-mail valide."),
        ("camille@example.org", "12345", "Numéro de téléphone invalide"),
        ("camille@example.org", "06 12 34 56 7", "Numéro de téléphone invalide"),
    ],
)
def test_bad_contacts_give_french_messages(durand_client, durand, castres, email, phone, message):
    response = durand_client.post(
        BASE + "coordonnees/",
        {
            "section": "contacts",
            "contacts-email": email,
            "contacts-phone": phone,
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(castres):
        durand.adult.refresh_from_db()
        assert durand.adult.email == "durand@example.org"


def test_contacts_phone_is_normalised(durand_client, durand, castres):
    durand_client.post(
        BASE + "coordonnees/",
        {
            "section": "contacts",
            "contacts-email": "camille.d@example.org",
            "contacts-phone": "+33 7.11.22.33.44",
        },
    )
    with tenant_context(castres):
        durand.adult.refresh_from_db()
        assert (durand.adult.email, durand.adult.phone) == (
            "camille.d@example.org",
            "07 11 22 33 44",
        )


@pytest.mark.parametrize(
    "qf, message",
    [
        ("-5", "Assurez-vous que cette valeur est supérieure ou égale à 0."),
        ("abc", "Saisissez un nombre entier."),
        ("250000", "Assurez-vous que cette valeur est inférieure ou égale à 100000."),
    ],
)
def test_bad_quotient_familial_is_refused_in_french(durand_client, durand, castres, qf, message):
    response = durand_client.post(
        BASE + "quotient-familial/",
        {
            "quotient_familial": qf,
            "qf_source": "caf",
            "qf_date": "2026-09-01",
            "allocataire_regime": "caf",
            "allocataire_number": "7654321",
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(castres):
        assert not Demande.objects.exists()
        assert Household.objects.get(pk=durand.household.pk).quotient_familial == 650


def test_quotient_familial_change_becomes_a_demande(
    durand_client, durand, castres, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = durand_client.post(
            BASE + "quotient-familial/",
            {
                "quotient_familial": "820",
                "qf_source": "caf",
                "qf_date": "2026-09-01",
                "allocataire_regime": "caf",
                "allocataire_number": "7654321",
            },
        )
    assert response.status_code == 302
    with tenant_context(castres):
        demande = Demande.objects.get()
        assert (demande.kind, demande.status, demande.service_area) == (
            "quotient_familial",
            "submitted",
            "billing",
        )
        assert demande.payload["quotient_familial"] == 820
        assert Household.objects.get(pk=durand.household.pk).quotient_familial == 650
    assert len(mailoutbox) == 1 and "envoyée" in mailoutbox[0].subject
    page = durand_client.get(BASE + "demandes/").content.decode()
    assert "Changement de quotient familial" in page and "envoyée" in page


def test_entourage_add_direct_and_remove_direct_in_castres(durand_client, durand, castres):
    response = durand_client.post(
        BASE + "entourage/",
        {
            "first_name": "Sam",
            "last_name": "Voisin",
            "relationship": "voisin",
            "phone": "0611223344",
            "can_pick_up": "on",
        },
    )
    assert response.status_code == 302
    with tenant_context(castres):
        sam = EntourageMember.objects.get(first_name="Sam")
        assert sam.phone == "06 11 22 33 44"
    response = durand_client.post(BASE + f"entourage/{sam.pk}/retirer/")
    assert response.status_code == 302
    with tenant_context(castres):
        assert not EntourageMember.objects.filter(pk=sam.pk).exists()


def test_entourage_needs_a_role_and_a_valid_phone(durand_client, durand, castres):
    response = durand_client.post(
        BASE + "entourage/",
        {
            "first_name": "Sam",
            "last_name": "Voisin",
            "phone": "abc",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Cochez au moins un rôle" in html and "Numéro de téléphone invalide" in html
    with tenant_context(castres):
        assert EntourageMember.objects.count() == 1


def test_entourage_with_htmx_swaps_the_panel(durand_client, durand):
    response = durand_client.post(
        BASE + "entourage/",
        {
            "first_name": "Sam",
            "last_name": "Voisin",
            "phone": "0611223344",
            "emergency_contact": "on",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div id="entourage-panel"') and "Sam Voisin" in html
    assert "<html" not in html


def test_entourage_removal_is_a_demande_where_the_town_says_so(durand_client, durand, castres):
    # Chalonnes-sur-Loire's rule (tenant_configs/chalonnes.yaml), given to this town.
    set_family_changes(castres, entourage_remove="validation")
    response = durand_client.post(BASE + f"entourage/{durand.member.pk}/retirer/")
    assert response.status_code == 302
    with tenant_context(castres):
        assert EntourageMember.objects.filter(pk=durand.member.pk).exists()
        demande = Demande.objects.get()
        assert demande.kind == "entourage_remove"
    page = durand_client.get(BASE + "entourage/").content.decode()
    assert "Retrait demandé" in page and "Demander le retrait" not in page


def test_health_sheet_update_and_child_page(durand_client, durand, castres):
    child = durand.children[0]
    response = durand_client.post(
        BASE + f"famille/enfants/{child.pk}/fiche-sanitaire/",
        {
            "allergies": "kiwi",
            "diet": "sans_viande",
            "pai": "on",
            "pai_details": "trousse d'urgence",
            "vaccinations_up_to_date": "on",
            "doctor_name": "Dr Fictif",
            "doctor_phone": "0563000000",
            "photo_allowed": "on",
        },
    )
    assert response.status_code == 302
    html = durand_client.get(BASE + f"famille/enfants/{child.pk}/").content.decode()
    assert "kiwi" in html and "repas sans viande" in html and "05 63 00 00 00" in html


def test_child_add_is_a_demande_and_birth_date_checked(durand_client, durand, castres):
    bad = durand_client.post(
        BASE + "famille/enfants/ajouter/",
        {
            "first_name": "Noé",
            "last_name": "Durand",
            "birth_date": "2099-01-01",
        },
    )
    assert bad.status_code == 200 and "ne peut pas être dans le futur" in bad.content.decode()
    ok = durand_client.post(
        BASE + "famille/enfants/ajouter/",
        {
            "first_name": "Noé",
            "last_name": "Durand",
            "birth_date": "2024-02-03",
            "sex": "M",
        },
    )
    assert ok.status_code == 302
    with tenant_context(castres):
        demande = Demande.objects.get()
        assert demande.kind == "child_add" and demande.payload["birth_date"] == "2024-02-03"


def test_summary_page_lists_the_data(durand_client):
    html = durand_client.get(BASE + "recapitulatif/").content.decode()
    assert "Récapitulatif de mes données" in html and "Dominique" in html and "arachide" in html


def test_staff_land_on_their_inbox_and_have_no_family_space(client, castres, manager, durand):
    login(client, castres, manager)
    response = client.get(BASE)
    assert (response.status_code, response["Location"]) == (302, "/castres/gestion/demandes/")
    assert client.get(BASE + "famille/").status_code == 404
    assert client.get(BASE + f"famille/enfants/{durand.children[0].pk}/").status_code == 404


def test_an_account_not_yet_linked_to_a_family_file_is_told_so(client, castres):
    from families.testing import make_staff

    lonely = make_staff(castres, username="sans-dossier", role="family")
    login(client, castres, lonely)
    response = client.get(BASE)
    assert response.status_code == 200
    assert "pas encore rattaché" in response.content.decode()
    assert client.get(BASE + "famille/").status_code == 404


def _dashboard_queries(client, commune, family, demandes: int) -> int:
    from demandes.services import submit_demande

    with tenant_context(commune):
        for i in range(demandes):
            submit_demande(
                kind="quotient_familial",
                subject=f"Demande {i}",
                submitted_by=family.user,
                household=family.household,
                service_area="billing",
            )
    login(client, commune, family.user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(BASE).status_code == 200
        assert client.get(BASE + "famille/").status_code == 200
        assert client.get(BASE + "demandes/").status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_query_count_does_not_grow_with_children_and_demandes(client, castres):
    small = make_family(castres, key="petit", last_name="Petit", children=1)
    big = make_family(castres, key="grand", last_name="Grand", children=5)
    few = _dashboard_queries(client, castres, small, demandes=1)
    client.logout()
    many = _dashboard_queries(client, castres, big, demandes=5)
    assert few == many, (few, many)


def test_separated_parents_each_see_the_child_from_their_own_household(client, castres, durand):
    from django.core.exceptions import ValidationError

    from families.services import add_guardian

    father = make_family(castres, key="pere", last_name="Moreau", children=0)
    third = make_family(castres, key="tiers", last_name="Tiers", children=0)
    child = durand.children[0]
    with tenant_context(castres):
        add_guardian(child=child, adult=father.adult)
        add_guardian(child=child, adult=father.adult)  # idempotent
        with pytest.raises(ValidationError, match="au plus deux"):
            add_guardian(child=child, adult=third.adult)
        assert father.household.payer == father.adult != durand.household.payer
    with tenant_context(castres):
        Household.objects.filter(pk=father.household.pk).update(quotient_familial=1150)
    login(client, castres, father.user)
    html = client.get(BASE + "famille/").content.decode()
    assert "Enfant1 Durand" in html and "Enfant2 Durand" not in html
    assert client.get(BASE + f"famille/enfants/{child.pk}/").status_code == 200
    # His quotient familial is his household's, not the mother's.
    assert "1\u202f150&nbsp;€" in html and "650&nbsp;€" not in html  # |nombre
    login(client, castres, third.user)
    assert client.get(BASE + f"famille/enfants/{child.pk}/").status_code == 404
