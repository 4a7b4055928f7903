"""Password policy (CNIL 2022-100), reset by e-mail link, change of password
and identifiers in « Mon compte »."""

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.models import User, UserSession
from accounts.testing import text
from tests.factories import UserFactory

PASSWORD = "mot-de-passe-de-test-assez-long"
NEW = "trois petits chats dans le jardin de Castres"


def path_of(message) -> str:
    url = re.search(r"https?://\S+", message.body).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.mark.parametrize(
    "password",
    [
        "douze lettres",  # exactly 13: length is the rule, no composition rule
        "correct horse battery staple",
        "Ĺe ciel est bleu 🌞 夏 ÆØÅ ß ça va ? " * 3,  # any Unicode, over 64 characters
        ("une phrase assez longue " * 42)[:1000],  # 1000 characters
    ],
)
def test_long_or_odd_passwords_are_accepted(password):
    validate_password(password)


@pytest.mark.parametrize(
    "password, message",
    [
        ("Court1!", "Ce mot de passe est trop court. Il doit contenir au minimum 12 caractères."),
        ("password1234", "Ce mot de passe est trop courant."),
        ("Azertyuiop1234", "Ce mot de passe est trop courant : choisissez"),
        ("Soleil2024!!!", "Ce mot de passe est trop courant : choisissez"),
        ("aaaaaaaaaaaaaaaa", "Ce mot de passe est trop courant : choisissez"),
        ("é" * 1025, "Ce mot de passe est trop long : 1024 caractères au maximum."),
    ],
)
def test_weak_passwords_are_refused_in_french(password, message):
    with pytest.raises(ValidationError) as error:
        validate_password(password)
    assert any(m.startswith(message) for m in error.value.messages), error.value.messages


def test_password_too_close_to_the_username_is_refused():
    user = User(username="claire.martin", email="claire.martin@example.org")
    with pytest.raises(ValidationError, match="trop semblable"):
        validate_password("claire.martin81", user=user)


def test_composed_and_decomposed_accents_are_the_same_password(castres, in_town):
    with in_town(castres):
        user = UserFactory(username="accent")
        user.set_password("un été à l'école de Castres")  # composed é
        user.save()
        assert user.check_password("un e\u0301te\u0301 a\u0300 l'e\u0301cole de Castres")


def test_reset_flow_by_username_through_the_mailbox(client, family, send, castres, in_town):
    response = send("post", "/castres/compte/mot-de-passe-oublie/", {"identifier": "martin"})
    assert response["Location"] == "/castres/compte/mot-de-passe-oublie/envoye/"
    (message,) = mail.outbox
    assert message.to == ["claire.martin@example.org"]
    assert "martin" in message.body and PASSWORD not in message.body
    assert "/castres/compte/reinitialiser/" in message.body
    # Django swaps the token out of the URL before showing the form:
    swap = client.get(path_of(message))
    form_url = swap["Location"]
    assert "set-password" in form_url
    page = client.get(form_url)
    assert page.context["validlink"]
    weak = client.post(form_url, {"new_password1": "court", "new_password2": "court"})
    assert "trop court" in text(weak)
    done = client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    assert done["Location"] == "/castres/compte/reinitialiser/termine/"
    # Single use: the link is dead now.
    again = client.get(path_of(message), follow=True)
    assert not again.context["validlink"]
    assert (
        client.post(
            "/castres/compte/connexion/", {"identifier": "martin", "password": NEW}
        ).status_code
        == 302
    )


def test_reset_by_email_ends_every_open_session(client, family, send, castres, in_town):
    client.post("/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD})
    old_key = client.cookies["sessionid"].value
    client.post("/castres/compte/deconnexion/")
    client.cookies.clear()
    # Another session left open somewhere:
    from django.test import Client

    elsewhere = Client()
    elsewhere.post("/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD})
    other_key = elsewhere.cookies["sessionid"].value
    send(
        "post", "/castres/compte/mot-de-passe-oublie/", {"identifier": "Claire.Martin@example.org"}
    )
    form_url = client.get(path_of(mail.outbox[0]))["Location"]
    client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    with in_town(castres):
        assert not Session.objects.filter(session_key__in=[old_key, other_key]).exists()
    assert elsewhere.get("/castres/api/compte/moi/").json()["authenticated"] is False


def test_reset_answers_the_same_for_unknown_accounts_and_sends_nothing(send, castres):
    known = send("post", "/castres/compte/mot-de-passe-oublie/", {"identifier": "personne"})
    assert known.status_code == 302 and known["Location"].endswith("/envoye/")
    assert mail.outbox == []


def test_reset_requests_are_rate_limited_per_account(send, family):
    for _ in range(6):
        send("post", "/castres/compte/mot-de-passe-oublie/", {"identifier": "martin"})
    assert len(mail.outbox) == 3


def test_reset_clears_the_sign_in_delay(client, family, send):
    for _ in range(6):
        client.post(
            "/castres/compte/connexion/", {"identifier": "martin", "password": "faux mot de passe"}
        )
    send("post", "/castres/compte/mot-de-passe-oublie/", {"identifier": "martin"})
    form_url = client.get(path_of(mail.outbox[0]))["Location"]
    client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    assert (
        client.post(
            "/castres/compte/connexion/", {"identifier": "martin", "password": NEW}
        ).status_code
        == 302
    )


def test_password_change_ends_the_other_sessions_only(client, family, castres, in_town):
    from django.test import Client

    elsewhere = Client()
    elsewhere.post("/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD})
    client.post("/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD})
    response = client.post(
        "/castres/compte/mot-de-passe/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    assert client.get("/castres/api/compte/moi/").json()["authenticated"] is True
    assert elsewhere.get("/castres/api/compte/moi/").json()["authenticated"] is False
    with in_town(castres):
        assert UserSession.objects.filter(user=family.user).count() == 1


def test_end_other_sessions_button(client, family, castres, in_town):
    from django.test import Client

    elsewhere = Client()
    elsewhere.post("/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD})
    client.post("/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD})
    assert "Déconnecter mes autres sessions" in text(client.get("/castres/compte/"))
    client.post("/castres/compte/sessions/deconnecter-les-autres/")
    assert elsewhere.get("/castres/api/compte/moi/").json()["authenticated"] is False
    assert client.get("/castres/api/compte/moi/").json()["authenticated"] is True


def test_change_username_and_email_with_reverification(client, family, send, castres, in_town):
    client.post("/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD})
    wrong = client.post(
        "/castres/compte/identifiants/",
        {"username": "claire", "email": "claire@example.net", "current_password": "faux"},
    )
    assert "Mot de passe incorrect." in text(wrong)
    response = send(
        "post",
        "/castres/compte/identifiants/",
        {"username": "claire", "email": "claire@example.net", "current_password": PASSWORD},
    )
    assert response.status_code == 302
    with in_town(castres):
        user = User.objects.get(pk=family.user.pk)
        assert user.username == "claire" and user.email == "claire.martin@example.org"
    (message,) = mail.outbox
    assert message.to == ["claire@example.net"]
    send("post", path_of(message))
    with in_town(castres):
        user.refresh_from_db()
        assert user.email == "claire@example.net"
    assert mail.outbox[-1].to == ["claire.martin@example.org"]  # the old address is told
    # The same link cannot switch the address back later:
    assert send("post", path_of(message)).status_code == 400


def test_changing_to_a_taken_email_says_nothing_and_warns_that_address(
    client, family, send, castres, in_town
):
    with in_town(castres):
        UserFactory(username="voisin", email="voisin@example.org")
    client.post("/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD})
    response = send(
        "post",
        "/castres/compte/identifiants/",
        {"username": "martin", "email": "voisin@example.org", "current_password": PASSWORD},
    )
    assert response.status_code == 302
    (warning,) = mail.outbox
    assert warning.to == ["voisin@example.org"] and "tentative" in warning.subject
