"""« Créer mon espace »: with a key (Bondoufle, Donges, Castres), without a
key (a link request), and every bad input refused in French with nothing saved."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import ActivationKey, User
from accounts.services import issue_activation_key
from accounts.testing import text
from demandes.models import Demande
from tests.factories import AdultFactory, UserFactory

SIGNUP = "/castres/compte/creer/"
GOOD = {
    "first_name": "Claire",
    "last_name": "Martin",
    "email": "claire.martin@example.org",
    "phone": "06 12 34 56 78",
    "address_line": "3 rue Villegoudou",
    "postcode": "81100",
    "city": "Castres",
    "username": "claire.martin",
    "password": "une maison bleue adossée à la colline",
    "activation_key": "",
}


def form(**changes):
    return GOOD | changes


def link_from(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0).split("://", 1)[1].split("/", 1)[1]


def counts(town, in_town):
    with in_town(town):
        return (
            User.objects.count(),
            Demande.objects.count(),
            ActivationKey.objects.filter(used_at__isnull=False).count(),
        )


@pytest.fixture
def adult_key(castres, in_town):
    with in_town(castres):
        adult = AdultFactory(first_name="Claire", last_name="Martin", email="")
        key, plain = issue_activation_key(adult=adult, issued_by=None)
    return adult, key, plain


def confirm(send, message):
    path = "/" + link_from(message)
    page = send("get", path)
    assert page.status_code == 200 and "Confirmer mon adresse" in text(page)
    return send("post", path)


def test_signup_with_key_links_the_adult_after_email_confirmation(
    send, castres, in_town, adult_key
):
    adult, key, plain = adult_key
    response = send("post", SIGNUP, form(activation_key=plain.lower().replace("-", " ")))
    assert response.status_code == 302 and response["Location"].endswith(
        "/creer/verifiez-vos-e-mails/"
    )
    with in_town(castres):
        user = User.objects.get(username="claire.martin")
        assert not user.is_active and user.email_verified_at is None
        adult.refresh_from_db()
        key.refresh_from_db()
        assert adult.user == user and key.used_by == user and key.used_at
        assert adult.email == "claire.martin@example.org"  # was empty: filled from the sign-up
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["claire.martin@example.org"]
    # Not before the address is confirmed:
    assert (
        send(
            "post",
            "/castres/compte/connexion/",
            {"identifier": "claire.martin", "password": GOOD["password"]},
        ).status_code
        == 200
    )
    assert "n'est pas encore confirmée" in text(
        send(
            "post",
            "/castres/compte/connexion/",
            {"identifier": "claire.martin", "password": GOOD["password"]},
        )
    )
    assert confirm(send, mail.outbox[0]).status_code == 302
    with in_town(castres):
        user.refresh_from_db()
        assert user.is_active and user.email_verified_at
        assert not Demande.objects.exists()  # linked by the key: nothing to ask staff
    login = send(
        "post",
        "/castres/compte/connexion/",
        {"identifier": "claire.martin@example.org", "password": GOOD["password"]},
    )
    assert login.status_code == 302


def test_signup_without_key_submits_a_link_request_once_confirmed(send, castres, in_town):
    assert send("post", SIGNUP, form()).status_code == 302
    with in_town(castres):
        assert not Demande.objects.exists()
    confirm(send, mail.outbox[0])
    with in_town(castres):
        demande = Demande.objects.get()
        assert demande.kind == "link_account" and demande.submitted_by.username == "claire.martin"
        assert demande.payload["declared"]["phone"] == "06 12 34 56 78"


def test_staff_accepting_the_link_request_links_the_chosen_adult(send, castres, in_town, family):
    from demandes.handlers import get

    send("post", SIGNUP, form(email="paul.martin@example.org", username="paul.martin"))
    confirm(send, mail.outbox[0])
    with in_town(castres):
        adult = AdultFactory(household=family.household, first_name="Paul", last_name="Martin")
        demande = Demande.objects.get()
        demande.payload["adult_id"] = adult.pk
        get("link_account").apply(demande, None)
        adult.refresh_from_db()
        assert adult.user.username == "paul.martin"


@pytest.mark.parametrize(
    "payload, message",
    [
        ({}, "Choisissez le responsable légal"),
        ({"adult_id": 999999}, "n'existe pas dans cette commune"),
    ],
)
def test_link_request_refused_without_a_valid_adult(send, castres, in_town, payload, message):
    from django.core.exceptions import ValidationError

    from demandes.handlers import get

    send("post", SIGNUP, form())
    confirm(send, mail.outbox[0])
    with in_town(castres):
        demande = Demande.objects.get()
        demande.payload.update(payload)
        with pytest.raises(ValidationError, match=message):
            get("link_account").apply(demande, None)


def test_link_request_refused_for_an_adult_who_has_an_account(send, castres, in_town, family):
    from django.core.exceptions import ValidationError

    from demandes.handlers import get

    send("post", SIGNUP, form(email="intrus@example.org", username="intrus"))
    confirm(send, mail.outbox[0])
    with in_town(castres):
        demande = Demande.objects.get()
        demande.payload["adult_id"] = family.adult.pk
        with pytest.raises(ValidationError, match="a déjà un compte"):
            get("link_account").apply(demande, None)


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"password": "court"}, "password", "trop court"),
        ({"password": "motdepasse12"}, "password", "trop courant"),
        ({"password": "azertyuiop2024!"}, "password", "trop courant"),
        ({"password": "password1234"}, "password", "trop courant"),
        ({"password": "claire.martin1"}, "password", "trop semblable"),
        ({"password": ""}, "password", "Ce champ est obligatoire"),
        ({"email": "claire.martin@"}, "email", "Saisissez une adresse e-mail valide"),
        ({"email": ""}, "email", "Ce champ est obligatoire"),
        ({"phone": "06 12 34"}, "phone", "numéro de téléphone français"),
        ({"phone": "+44 20 7946 0958"}, "phone", "numéro de téléphone français"),
        ({"postcode": "8110"}, "postcode", "5 chiffres"),
        ({"username": "Claire Martin"}, "username", "lettres sans accent"),
        ({"username": "c@m"}, "username", "lettres sans accent"),
        ({"activation_key": "ABCD"}, "activation_key", "16 caractères"),
        ({"activation_key": "K7QF-M2XR-9TDA-HW3P"}, "activation_key", "n'est pas reconnue"),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_saved(
    send, castres, in_town, changes, field, message
):
    before = counts(castres, in_town)
    response = send("post", SIGNUP, form(**changes))
    assert response.status_code == 200
    html = text(response)
    assert message in html
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    # The error is tied to its field for screen readers, and listed in the summary.
    assert f'aria-describedby="id_{field}_' in html and 'aria-invalid="true"' in html
    assert 'id="erreurs"' in html and f'href="#id_{field}"' in html
    assert counts(castres, in_town) == before
    assert mail.outbox == []


def test_a_100_character_unicode_passphrase_is_accepted(send, castres, in_town):
    passphrase = (
        "Ĺe ciel de Castres est bleu 🌞, les enfants jouent près de l'Agoût — "
        "déjà l'été ! 夏 ÆØÅ ß ça va ?"
    )[:100]
    passphrase += "x" * (100 - len(passphrase))
    assert len(passphrase) == 100
    assert send("post", SIGNUP, form(password=passphrase)).status_code == 302
    with in_town(castres):
        user = User.objects.get(username="claire.martin")
        assert user.check_password(passphrase)


def test_taken_email_answers_the_same_and_warns_the_owner(send, castres, in_town, family):
    before = counts(castres, in_town)
    response = send("post", SIGNUP, form(email="CLAIRE.MARTIN@example.org", username="autre.nom"))
    fresh = send("post", SIGNUP, form(email="nouvelle@example.org", username="nouveau.nom"))
    assert response.status_code == fresh.status_code == 302
    assert response["Location"] == fresh["Location"]
    assert counts(castres, in_town)[0] == before[0] + 1  # only the fresh one
    warning, confirmation = mail.outbox
    assert warning.to == ["CLAIRE.MARTIN@example.org"] and "tentative" in warning.subject
    assert "martin" in warning.body  # reminds the owner of their username
    assert "confirmez" in confirmation.subject


def test_taken_email_does_not_consume_the_key(send, castres, in_town, family, adult_key):
    adult, key, plain = adult_key
    send("post", SIGNUP, form(email="claire.martin@example.org", activation_key=plain))
    with in_town(castres):
        key.refresh_from_db()
        adult.refresh_from_db()
        assert key.used_at is None and adult.user is None


def test_taken_username_answers_the_same_and_the_email_says_it(
    send, castres, in_town, family, adult_key
):
    """Sign-up never tells whether a username has an account (issue #17): the
    same redirect and page as a fresh sign-up; the e-mail to the address typed
    says the name is taken. Nothing is created and the key stays usable."""
    adult, key, plain = adult_key
    taken = family.user.username.upper()
    before = counts(castres, in_town)
    response = send(
        "post", SIGNUP, form(email="quelqu.un@example.org", username=taken, activation_key=plain)
    )
    fresh = send("post", SIGNUP, form(email="nouvelle@example.org", username="nouveau.nom"))
    assert response.status_code == fresh.status_code == 302
    assert response["Location"] == fresh["Location"]
    assert "déjà pris" not in text(send("get", response["Location"]))
    assert counts(castres, in_town)[0] == before[0] + 1  # only the fresh one
    refused, confirmation = mail.outbox
    assert refused.to == ["quelqu.un@example.org"]
    assert "n'a pas été créé" in refused.subject and f"« {taken.lower()} »" in refused.body
    assert "/castres/compte/creer/" in refused.body
    assert "confirmez" in confirmation.subject
    with in_town(castres):
        key.refresh_from_db()
        assert key.used_at is None


def test_taken_username_and_taken_email_look_like_any_sign_up(send, castres, in_town, family):
    """Every combination answers the same way, with the same page."""
    answers = {
        send("post", SIGNUP, form(email=email, username=username))["Location"]
        for email, username in [
            (family.user.email, family.user.username),
            (family.user.email, "libre.nom"),
            ("libre@example.org", family.user.username),
            ("libre2@example.org", "libre.nom2"),
        ]
    }
    assert len(answers) == 1


def test_reused_key_is_refused(send, castres, in_town, adult_key):
    _, _, plain = adult_key
    send("post", SIGNUP, form(activation_key=plain))
    before = counts(castres, in_town)
    response = send(
        "post", SIGNUP, form(email="autre@example.org", username="autre", activation_key=plain)
    )
    assert "Cette clé a déjà servi" in text(response)
    assert counts(castres, in_town) == before


def test_expired_key_is_refused(send, castres, in_town, adult_key):
    _, key, plain = adult_key
    with time_machine.travel(key.expires_at + timedelta(minutes=1), tick=False):
        response = send("post", SIGNUP, form(activation_key=plain))
    html = text(response)
    assert "Cette clé a expiré le" in html
    with in_town(castres):
        assert (
            not User.objects.exists() or not User.objects.filter(username="claire.martin").exists()
        )


def test_replaced_key_is_refused(send, castres, in_town, adult_key):
    adult, _, old_plain = adult_key
    with in_town(castres):
        issue_activation_key(adult=adult, issued_by=None)
    assert "remplacée" in text(send("post", SIGNUP, form(activation_key=old_plain)))


def test_a_key_of_another_town_is_unknown_here(send, bondoufle, in_town, adult_key):
    _, _, plain = adult_key  # made in Castres
    response = send("post", "/bondoufle/compte/creer/", form(activation_key=plain))
    assert "n'est pas reconnue" in text(response)


def test_ten_wrong_keys_are_throttled_even_the_right_one_then_it_works(
    send, castres, in_town, adult_key
):
    _, _, plain = adult_key
    statuses = []
    for i in range(10):
        wrong = f"{'ABCDEFGHJKMNPQRS'[i]}BCD-EFGH-JKMN-PQRS"
        statuses.append(send("post", SIGNUP, form(activation_key=wrong)).status_code)
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 5
    blocked = send("post", SIGNUP, form(activation_key=plain))
    assert blocked.status_code == 429 and "Trop de tentatives" in text(blocked)
    with in_town(castres):
        assert not User.objects.exists()
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1), tick=False):
        assert send("post", SIGNUP, form(activation_key=plain)).status_code == 302


def test_wrong_keys_sharing_a_prefix_are_throttled_across_addresses(send, castres, adult_key):
    for i in range(5):
        send(
            "post", SIGNUP, form(activation_key=f"ABCD-EFGH-JKMN-PQR{i}"), REMOTE_ADDR=f"10.0.0.{i}"
        )
    blocked = send(
        "post", SIGNUP, form(activation_key="ABCD-EFGH-JKMN-PQRZ"), REMOTE_ADDR="10.0.0.99"
    )
    assert blocked.status_code == 429


def test_keys_are_stored_hashed(castres, in_town, adult_key):
    _, key, plain = adult_key
    with in_town(castres):
        row = ActivationKey.objects.get(pk=key.pk)
    assert plain.replace("-", "") not in row.digest and len(row.digest) == 64
    assert row.prefix == plain[:4]
    assert abs(row.expires_at - row.created_at - timedelta(days=60)) < timedelta(seconds=5)


def test_unconfirmed_signup_expires_and_frees_the_key_and_address(
    send, castres, in_town, adult_key
):
    adult, key, plain = adult_key
    send("post", SIGNUP, form(activation_key=plain))
    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        # The old link no longer works...
        assert send("get", "/" + link_from(mail.outbox[0])).status_code == 400
        # ...and the same family can start again with the same key and address.
        assert send("post", SIGNUP, form(activation_key=plain)).status_code == 302
    with in_town(castres):
        assert User.objects.filter(username="claire.martin").count() == 1
        key.refresh_from_db()
        assert key.used_by.username == "claire.martin"


def test_confirmation_link_of_one_town_is_worthless_in_another(send, castres, bondoufle, in_town):
    send("post", SIGNUP, form())
    path = "/" + link_from(mail.outbox[0])
    assert path.startswith("castres/") or path.startswith("/castres/")
    other = path.replace("castres", "bondoufle", 1)
    with in_town(bondoufle):
        UserFactory(username="claire.martin", email="claire.martin@example.org", is_active=False)
    assert send("get", other).status_code == 400


def test_forged_confirmation_link_is_refused(send, castres):
    assert send("get", "/castres/compte/confirmer/abc:def/").status_code == 400
