"""Sign-in by username or e-mail, identical failures, growing delays that
never lock anyone out for good, sessions renewed and ended server-side, and
a town's session worthless in another town."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import User, UserSession
from accounts.testing import text
from tests.factories import UserFactory

LOGIN = "/castres/compte/connexion/"
PASSWORD = "mot-de-passe-de-test-assez-long"  # tests.factories.UserFactory's


def sign_in(client, identifier, password=PASSWORD, town="castres", **extra):
    return client.post(
        f"/{town}/compte/connexion/", {"identifier": identifier, "password": password}, **extra
    )


@pytest.mark.parametrize(
    "identifier", ["martin", "MARTIN", "claire.martin@example.org", "Claire.Martin@Example.org"]
)
def test_sign_in_by_username_or_email(client, family, identifier):
    response = sign_in(client, identifier)
    assert response.status_code == 302 and response["Location"] == "/castres/mon-espace/"


def test_unknown_account_and_wrong_password_get_the_same_answer(client, family):
    unknown = sign_in(client, "personne@example.org")
    wrong = sign_in(client, "claire.martin@example.org", "pas le bon mot de passe")
    assert unknown.status_code == wrong.status_code == 200
    assert (
        unknown.context["form"].errors
        == wrong.context["form"].errors
        == {"__all__": ["Identifiant ou mot de passe incorrect."]}
    )


def test_a_safe_next_is_followed_and_a_foreign_one_ignored(client, family):
    ok = client.post(
        LOGIN + "?next=/castres/compte/", {"identifier": "martin", "password": PASSWORD}
    )
    assert ok["Location"] == "/castres/compte/"
    client.post("/castres/compte/deconnexion/")
    for bad in ("https://evil.example/", "//evil.example/", "/bondoufle/compte/"):
        response = client.post(LOGIN, {"identifier": "martin", "password": PASSWORD, "next": bad})
        assert response["Location"] == "/castres/mon-espace/"
        client.post("/castres/compte/deconnexion/")


def test_repeated_failures_slow_down_then_the_right_password_works(client, family):
    for _ in range(5):
        assert sign_in(client, "martin", "mauvais mot de passe").status_code == 200
    throttled = sign_in(client, "martin")  # even the right password waits
    assert throttled.status_code == 429
    assert "Trop de tentatives. Par sécurité, réessayez dans 1 minute." in text(throttled)
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        assert sign_in(client, "martin").status_code == 302


def test_delays_grow_but_are_capped_no_permanent_lockout(client, family):
    now = timezone.now()
    for i in range(40):  # a stranger hammering the account for hours
        with time_machine.travel(now + timedelta(minutes=16 * i), tick=False):
            sign_in(client, "claire.martin@example.org", "mauvais mot de passe")
    with time_machine.travel(now + timedelta(minutes=16 * 40), tick=False):
        assert sign_in(client, "martin").status_code == 302


def test_counter_is_per_account_whatever_identifier_is_typed(client, family):
    for identifier in ["martin", "claire.martin@example.org"] * 3:
        sign_in(client, identifier, "mauvais mot de passe")
    assert sign_in(client, "martin").status_code == 429


def test_unknown_accounts_are_throttled_alike(client, castres):
    for _ in range(5):
        sign_in(client, "personne@example.org", "mauvais mot de passe")
    assert sign_in(client, "personne@example.org", "mauvais mot de passe").status_code == 429


def test_failures_from_one_address_slow_that_address(client, family, castres, in_town):
    for i in range(30):
        sign_in(
            client, f"inconnu{i}@example.org", "mauvais mot de passe", REMOTE_ADDR="203.0.113.9"
        )
    assert sign_in(client, "martin", REMOTE_ADDR="203.0.113.9").status_code == 429
    assert sign_in(client, "martin", REMOTE_ADDR="198.51.100.1").status_code == 302


def test_throttles_of_one_town_do_not_slow_another(client, family, bondoufle, in_town):
    with in_town(bondoufle):
        UserFactory(username="martin", email="claire.martin@example.org")
    for _ in range(6):
        sign_in(client, "martin", "mauvais mot de passe")
    assert sign_in(client, "martin", town="bondoufle").status_code == 302


def test_session_id_is_renewed_at_login_and_tracked(client, family, castres, in_town):
    session = client.session  # an anonymous session exists before sign-in
    session["avant"] = 1
    session.save()
    before = session.session_key
    sign_in(client, "martin")
    after = client.cookies["sessionid"].value
    assert after != before
    with in_town(castres):
        assert not Session.objects.filter(session_key=before).exists()
        assert UserSession.objects.filter(user=family.user, session_key=after).exists()


def test_logout_is_post_only_and_ends_the_session_server_side(client, family, castres, in_town):
    sign_in(client, "martin")
    key = client.cookies["sessionid"].value
    assert client.get("/castres/compte/deconnexion/").status_code == 405
    assert client.post("/castres/compte/deconnexion/").status_code == 302
    with in_town(castres):
        assert not Session.objects.filter(session_key=key).exists()
        assert not UserSession.objects.filter(session_key=key).exists()
    # Replaying the old cookie gives nothing:
    client.cookies["sessionid"] = key
    assert client.get("/castres/mon-espace/").status_code == 302


def test_header_shows_the_sign_in_before_this_one(client, family, castres, in_town):
    with time_machine.travel(
        datetime(2026, 11, 19, 11, 6, tzinfo=UTC), tick=False
    ):  # 12:06 in Paris
        sign_in(client, "martin")
        client.post("/castres/compte/deconnexion/")
    with time_machine.travel(datetime(2026, 11, 21, 8, 0, tzinfo=UTC), tick=False):
        sign_in(client, "martin")
        page = text(client.get("/castres/compte/"))
    assert "Dernière connexion le jeudi 19 novembre 2026 à 12:06" in page
    with in_town(castres):
        user = User.objects.get(pk=family.user.pk)
        assert user.previous_login < user.last_login


def test_first_sign_in_says_so(client, family):
    sign_in(client, "martin")
    assert "Première connexion" in text(client.get("/castres/compte/"))


def test_a_session_of_one_town_is_refused_in_another(client, family, bondoufle, in_town):
    """django-tenants issue #52: sessions in a shared table let one tenant's
    cookie open another's. Here each town's sessions live in its own schema."""
    with in_town(bondoufle):
        # Same id as Claire's Castres account: an id alone must open nothing.
        UserFactory(id=family.user.pk, username="autre.famille", email="autre@example.org")
    sign_in(client, "martin")
    castres_cookie = client.cookies["sessionid"].value
    assert client.get("/castres/api/compte/moi/").json()["authenticated"] is True
    client.cookies["sessionid"] = castres_cookie
    replay = client.get("/bondoufle/api/compte/moi/")
    assert replay.json()["authenticated"] is False
    assert client.get("/bondoufle/mon-espace/").status_code == 302  # to Bondoufle's sign-in


def test_cookies_are_scoped_to_the_town_path(client, family):
    response = sign_in(client, "martin")
    assert response.cookies["sessionid"]["path"] == "/castres/"
    assert response.cookies["sessionid"]["httponly"] is True
    assert response.cookies["sessionid"]["samesite"] == "Lax"
    page = client.get("/castres/compte/connexion/")
    assert page.cookies["csrftoken"]["path"] == "/castres/"
    logout = client.post("/castres/compte/deconnexion/")
    assert logout.cookies["sessionid"]["path"] == "/castres/"  # the deletion hits the same cookie


def test_public_admin_cookies_stay_under_admin(client, db):
    response = client.get("/admin/login/")
    assert response.cookies["csrftoken"]["path"] == "/admin/"


def test_inactive_account_cannot_sign_in(client, family, castres, in_town):
    with in_town(castres):
        User.objects.filter(pk=family.user.pk).update(
            is_active=False, email_verified_at=timezone.now()
        )
    response = sign_in(client, "martin")
    assert response.context["form"].errors == {
        "__all__": ["Identifiant ou mot de passe incorrect."]
    }


def test_private_pages_are_not_cached(client, family):
    sign_in(client, "martin")
    assert "no-store" in client.get("/castres/compte/")["Cache-Control"]
