"""Staff page: legal representatives without an account, key generation as a
printable letter or an e-mail. Staff only, second factor verified."""

import pytest
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ActivationKey
from accounts.rules import normalize_key
from accounts.services import key_digest
from accounts.testing import text, totp_now
from tests.factories import AdultFactory

PASSWORD = "mot-de-passe-de-test-assez-long"


@pytest.fixture
def agent_client(client, staff_user, castres, in_town):
    with in_town(castres):
        device = TOTPDevice.objects.create(user=staff_user, name="t", confirmed=True)
    client.post("/castres/compte/connexion/", {"identifier": "agent.castres", "password": PASSWORD})
    with in_town(castres):
        code = totp_now(device)
    client.post("/castres/compte/double-authentification/code/", {"token": code})
    return client


@pytest.fixture
def adults(castres, in_town, family):
    with in_town(castres):
        with_mail = AdultFactory(
            first_name="Paul", last_name="Durand", email="paul.durand@example.org"
        )
        without_mail = AdultFactory(first_name="Inès", last_name="Roux", email="")
    return with_mail, without_mail


def test_list_shows_only_adults_without_account(agent_client, adults, family):
    page = text(agent_client.get("/castres/compte/agents/cles/"))
    assert "Durand Paul" in page and "Roux Inès" in page
    assert "Martin Claire" not in page  # has an account
    assert "Roux Inès" not in text(agent_client.get("/castres/compte/agents/cles/?q=durand"))


def test_letter_shows_the_key_once_and_stores_only_its_hash(agent_client, adults, castres, in_town):
    _, ines = adults
    response = agent_client.post(f"/castres/compte/agents/cles/{ines.pk}/", {"delivery": "letter"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = text(response)
    key = page.split('class="letter-key"')[1].split(">")[1].split("<")[0]
    assert len(key) == 19 and key.count("-") == 3
    assert "Inès Roux" in page and "/castres/compte/creer/" in page
    with in_town(castres):
        row = ActivationKey.objects.get(adult=ines)
        assert row.digest == key_digest(normalize_key(key)) and key not in row.digest
    # The list no longer shows the key, only its beginning.
    listing = text(agent_client.get("/castres/compte/agents/cles/"))
    assert key not in listing and f"{key[:4]}…" in listing


def test_email_delivery_sends_the_key(agent_client, adults, send, castres, in_town):
    paul, _ = adults
    response = send("post", f"/castres/compte/agents/cles/{paul.pk}/", {"delivery": "email"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["paul.durand@example.org"]
    key = [line.strip() for line in message.body.splitlines() if line.startswith("    ")][0]
    with in_town(castres):
        assert ActivationKey.objects.get(adult=paul).digest == key_digest(normalize_key(key))


def test_email_delivery_needs_an_address(agent_client, adults, castres, in_town):
    _, ines = adults
    response = agent_client.post(
        f"/castres/compte/agents/cles/{ines.pk}/", {"delivery": "email"}, follow=True
    )
    assert "pas d'adresse e-mail" in text(response)
    with in_town(castres):
        assert not ActivationKey.objects.filter(adult=ines).exists()


def test_a_new_key_replaces_the_previous_one(agent_client, adults, castres, in_town):
    _, ines = adults
    agent_client.post(f"/castres/compte/agents/cles/{ines.pk}/", {"delivery": "letter"})
    agent_client.post(f"/castres/compte/agents/cles/{ines.pk}/", {"delivery": "letter"})
    with in_town(castres):
        keys = list(ActivationKey.objects.filter(adult=ines))
        assert len(keys) == 2 and sum(k.revoked_at is None for k in keys) == 1


def test_no_key_for_an_adult_who_has_an_account(agent_client, family):
    response = agent_client.post(
        f"/castres/compte/agents/cles/{family.adult.pk}/", {"delivery": "letter"}
    )
    assert response.status_code == 404


def test_families_and_anonymous_cannot_reach_the_staff_pages(client, family, adults):
    _, ines = adults
    assert client.get("/castres/compte/agents/cles/").status_code == 302
    client.post("/castres/compte/connexion/", {"identifier": "martin", "password": PASSWORD})
    assert client.get("/castres/compte/agents/cles/").status_code == 403
    assert (
        client.post(f"/castres/compte/agents/cles/{ines.pk}/", {"delivery": "letter"}).status_code
        == 403
    )


def test_adults_of_another_town_are_not_found(agent_client, bondoufle, in_town):
    with in_town(bondoufle):
        other = AdultFactory()
    assert (
        agent_client.post(
            f"/castres/compte/agents/cles/{other.pk + 1000}/", {"delivery": "letter"}
        ).status_code
        == 404
    )
