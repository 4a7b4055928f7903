"""An account without a family file is not stuck: « J'ai reçu une clé » (the
key typed later, the same checks as at sign-up) and « Déclarer mes enfants »
(a request the town validates; accepting it creates the file and the children)."""

import pytest

from accounts.models import ActivationKey
from accounts.services import issue_activation_key
from accounts.testing import text
from demandes.models import Demande
from families.linking import apply_link_account
from families.models import Adult, Child
from families.testing import login
from tests.factories import AdultFactory, UserFactory

KEY = "/castres/compte/cle/"
DECLARE = "/castres/compte/declarer-mes-enfants/"


@pytest.fixture
def unlinked(client, castres, in_town):
    with in_town(castres):
        user = UserFactory(username="sans-dossier", email="sans.dossier@example.org")
    login(client, castres, user)
    return user


def test_unlinked_space_offers_both_ways(client, unlinked):
    page = text(client.get("/castres/mon-espace/"))
    assert "J'ai reçu une clé" in page and "Déclarer mes enfants" in page


def test_key_typed_later_links_the_account(client, castres, in_town, unlinked):
    with in_town(castres):
        adult = AdultFactory(first_name="Claire", last_name="Martin", email="")
        _, plain = issue_activation_key(adult=adult, issued_by=None)
    bad = client.post(KEY, {"activation_key": "ABCD"})
    assert bad.status_code == 422 and "16 caractères" in text(bad)
    done = client.post(KEY, {"activation_key": plain.lower()})
    assert done.status_code == 302 and done["Location"].endswith("/mon-espace/")
    with in_town(castres):
        adult.refresh_from_db()
        assert adult.user == unlinked and adult.email == "sans.dossier@example.org"
        assert ActivationKey.objects.get(adult=adult).used_by == unlinked
    again = client.post(KEY, {"activation_key": plain})
    assert again.status_code == 302  # a linked account is sent to its space


def test_declared_children_are_created_when_the_town_accepts(client, castres, in_town, unlinked):
    empty = client.post(DECLARE, {"enfants-TOTAL_FORMS": "2", "enfants-INITIAL_FORMS": "0"})
    assert empty.status_code == 422 and "au moins un enfant" in text(empty)
    response = client.post(
        DECLARE,
        {
            "enfants-TOTAL_FORMS": "2",
            "enfants-INITIAL_FORMS": "0",
            "enfants-0-first_name": "Constance",
            "enfants-0-last_name": "Martin",
            "enfants-0-birth_date": "2017-04-02",
        },
    )
    assert response.status_code == 302
    with in_town(castres):
        demande = Demande.objects.get(submitted_by=unlinked)
        assert demande.payload["children"] == [
            {"first_name": "Constance", "last_name": "Martin", "birth_date": "2017-04-02"}
        ]
        demande.payload = {**demande.payload, "create_household": True}
        demande.save()
        apply_link_account(demande, None)
        adult = Adult.objects.get(user=unlinked)
        child = Child.objects.get(household=adult.household)
        assert (child.first_name, str(child.birth_date)) == ("Constance", "2017-04-02")
        assert list(child.guardians.all()) == [adult]
