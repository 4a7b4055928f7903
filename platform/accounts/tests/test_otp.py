"""Second factor (TOTP) for town staff and for operators on the public admin."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.testing import text, totp_now
from tests.factories import UserFactory

PASSWORD = "mot-de-passe-de-test-assez-long"


def sign_in(client, identifier="agent.castres"):
    return client.post(
        "/castres/compte/connexion/", {"identifier": identifier, "password": PASSWORD}
    )


@pytest.fixture
def enrolled(staff_user, castres, in_town):
    with in_town(castres):
        return TOTPDevice.objects.create(user=staff_user, name="Téléphone", confirmed=True)


def test_staff_without_device_is_sent_to_enrolment_and_enrols(client, staff_user, castres, in_town):
    response = sign_in(client)
    assert response["Location"] == "/castres/compte/double-authentification/"
    page = client.get(response["Location"])
    html = text(page)
    assert "<svg" in html and "Clé à saisir à la main" in html
    with in_town(castres):
        device = TOTPDevice.objects.get(user=staff_user, confirmed=False)
        assert "issuer=Guichet%20Famille%20Castres" in device.config_url
    bad = client.post("/castres/compte/double-authentification/", {"token": "000000"})
    assert "Ce code n'est pas valable" in text(bad)
    # django-otp makes the next try wait 1 s after a wrong code:
    with time_machine.travel(timezone.now() + timedelta(seconds=2), tick=False), in_town(castres):
        code = totp_now(TOTPDevice.objects.get(pk=device.pk))
    with time_machine.travel(timezone.now() + timedelta(seconds=2), tick=False):
        done = client.post("/castres/compte/double-authentification/", {"token": code})
    assert done.status_code == 302
    assert client.get("/castres/api/compte/moi/").json()["second_factor_verified"] is True
    with in_town(castres):
        assert TOTPDevice.objects.get(pk=device.pk).confirmed


def test_staff_with_device_must_give_a_code_and_unverified_sessions_reach_nothing(
    client, enrolled, castres, in_town
):
    response = sign_in(client)
    assert response["Location"] == "/castres/compte/double-authentification/code/"
    # Password alone: pages redirect to the code page, the API refuses, keys page too.
    blocked = client.get("/castres/compte/agents/cles/")
    assert blocked.status_code == 302 and "/double-authentification/code/" in blocked["Location"]
    assert client.get("/castres/mon-espace/").status_code == 302
    api = client.get("/castres/api/compte/moi/")
    assert api.status_code == 403 and api["Content-Type"] == "application/problem+json"
    # Enrolment cannot be used to replace the existing device:
    assert "/code/" in client.get("/castres/compte/double-authentification/")["Location"]
    with in_town(castres):
        code = totp_now(enrolled)
    ok = client.post(
        "/castres/compte/double-authentification/code/",
        {"token": code, "next": "/castres/compte/agents/cles/"},
    )
    assert ok["Location"] == "/castres/compte/agents/cles/"
    assert client.get("/castres/compte/agents/cles/").status_code == 200


def test_a_code_cannot_be_replayed(client, enrolled, castres, in_town):
    sign_in(client)
    with in_town(castres):
        code = totp_now(enrolled)
    client.post("/castres/compte/double-authentification/code/", {"token": code})
    other = Client()
    sign_in(other)
    replay = other.post("/castres/compte/double-authentification/code/", {"token": code})
    assert replay.status_code == 200 and "n'est pas valable" in text(replay)


def test_malformed_code_is_refused_in_french(client, enrolled):
    sign_in(client)
    response = client.post("/castres/compte/double-authentification/code/", {"token": "12ab"})
    assert "Le code compte 6 chiffres." in text(response)


def test_verification_renews_the_session_id(client, enrolled, castres, in_town):
    sign_in(client)
    before = client.cookies["sessionid"].value
    with in_town(castres):
        code = totp_now(enrolled)
    client.post("/castres/compte/double-authentification/code/", {"token": code})
    assert client.cookies["sessionid"].value != before


def test_staff_required_refuses_unverified_staff_and_families(
    rf, staff_user, family, castres, in_town
):
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied
    from django.urls import set_script_prefix

    from accounts.permissions import staff_required

    @staff_required("periscolaire")
    def view(request):
        return "ok"

    set_script_prefix("/castres/")
    try:
        request = rf.get("/x/")
        request.user = staff_user
        staff_user.is_verified = lambda: False
        assert view(request).status_code == 302
        staff_user.is_verified = lambda: True
        assert view(request) == "ok"
        request.user = family.user
        family.user.is_verified = lambda: True
        with pytest.raises(PermissionDenied):
            view(request)
        request.user = AnonymousUser()
        assert view(request).status_code == 302
    finally:
        set_script_prefix("/")


def test_families_need_no_second_factor(client, family):
    response = client.post(
        "/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD}
    )
    assert response["Location"] == "/castres/mon-espace/"


def test_public_admin_requires_an_otp_code(db):
    from accounts.models import User

    User.objects.create_superuser("operateur", "op@example.org", PASSWORD, role="operator")
    client = Client()
    page = client.get("/admin/login/")
    assert "otp_token" in page.content.decode()
    no_code = client.post("/admin/login/", {"username": "operateur", "password": PASSWORD})
    assert no_code.status_code == 200
    assert PASSWORD not in no_code.content.decode()  # never echoed back in the code step
    assert client.get("/admin/").status_code == 302
    device = TOTPDevice.objects.create(
        user=User.objects.get(username="operateur"), name="t", confirmed=True
    )
    ok = client.post(
        "/admin/login/",
        {
            "username": "operateur",
            "password": PASSWORD,
            "next": "/admin/",
            "otp_device": device.persistent_id,
            "otp_token": totp_now(device),
        },
    )
    assert ok.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200


def test_enroll_totp_command(db, capsys):
    from django.core.management import call_command

    from accounts.models import User

    UserFactory(username="operateur2", email="op2@example.org")
    call_command("enroll_totp", "operateur2")
    out = capsys.readouterr().out
    assert "Clé secrète (base 32)" in out and "otpauth://totp/" in out
    assert TOTPDevice.objects.filter(
        user=User.objects.get(username="operateur2"), confirmed=True
    ).exists()


def test_force_login_verified_helper_for_other_apps_tests(client, staff_user, castres):
    from accounts.testing import force_login_verified

    force_login_verified(client, staff_user, castres)
    assert client.get("/castres/compte/agents/cles/").status_code == 200
    assert client.get("/castres/api/compte/moi/").json()["second_factor_verified"] is True
