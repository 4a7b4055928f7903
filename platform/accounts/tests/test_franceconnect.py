"""« S'identifier avec FranceConnect »: our real client (Authlib + joserfc)
against a local OpenID Connect provider speaking FranceConnect's protocol over
HTTP (platform/idsim). Every refusal answers a French page and changes no
account; staff never sign in with FranceConnect."""

from __future__ import annotations

import html
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from accounts.models import FranceConnectLink, User
from idsim.provider import PEOPLE, _sub
from idsim.testing import sign_in_at_provider
from tests.factories import UserFactory

START = "/castres/compte/franceconnect/"
FIRST = "/castres/compte/franceconnect/premiere-connexion/"
PASSWORD = "mot-de-passe-de-test-assez-long"  # tests.factories.UserFactory's
CLAIRE_SUB = _sub(PEOPLE["claire"], "demo-castres-guichet-famille")


def start(client) -> str:
    response = client.post(START)
    assert response.status_code == 302
    return response["Location"]


def authorize_params(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def orm(castres, in_town):
    """`with orm():` ORM calls in Castres' schema."""
    return lambda: in_town(castres)


def signed_in_user(client, orm):
    with orm():
        return client.session.get("_auth_user_id")


def accounts_state(orm):
    with orm():
        return sorted(User.objects.values_list("pk", "username", "is_active")), sorted(
            FranceConnectLink.objects.values_list("user_id", "sub")
        )


def test_the_sign_in_page_shows_the_button_only_where_the_town_offers_it(
    client, castres, idsim, monkeypatch
):
    page = html.unescape(client.get("/castres/compte/connexion/").content.decode())
    assert "S'identifier avec</span> <span>FranceConnect" in page
    assert "Qu'est-ce que FranceConnect ?" in page
    monkeypatch.delenv("CASTRES_FRANCECONNECT_SECRET")
    page = client.get("/castres/compte/connexion/").content.decode()
    assert "FranceConnect" not in page
    assert client.post(START).status_code == 404


def test_authorization_request_follows_franceconnect_rules(client, castres, idsim):
    url = start(client)
    params = authorize_params(url)
    assert url.startswith(idsim.base_url + "/authorize?")
    assert params["response_type"] == "code"
    assert params["client_id"] == "demo-castres-guichet-famille"
    assert params["acr_values"] == "eidas1"
    assert set(params["scope"].split()) >= {"openid", "given_name", "family_name", "birthdate"}
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    assert params["redirect_uri"] == "http://testserver/castres/compte/franceconnect/retour/"


def test_first_use_links_an_existing_account_after_its_password(client, family, idsim, orm):
    back = sign_in_at_provider(start(client))
    response = client.get(back)
    assert response["Location"] == FIRST
    page = client.get(FIRST)
    assert "Claire Martin" in page.content.decode()
    # Not signed in yet, and nothing linked by the e-mail or the name alone.
    assert signed_in_user(client, orm) is None
    assert accounts_state(orm)[1] == []
    wrong = client.post(FIRST, {"action": "link", "identifier": "martin", "password": "non"})
    assert wrong.status_code == 400 and accounts_state(orm)[1] == []
    ok = client.post(FIRST, {"action": "link", "identifier": "martin", "password": PASSWORD})
    assert ok.status_code == 302
    with orm():
        link = FranceConnectLink.objects.select_related("user").get()
    assert link.user.username == "martin" and link.sub == CLAIRE_SUB
    # Next time: straight in, no password.
    client.post("/castres/compte/deconnexion/")
    again = client.get(sign_in_at_provider(start(client)))
    assert again["Location"] == "/castres/mon-espace/"
    assert int(signed_in_user(client, orm)) == link.user_id


def test_first_use_creates_an_account_that_then_enters_its_key(client, castres, idsim, orm):
    client.get(sign_in_at_provider(start(client), person="camille"))
    response = client.post(FIRST, {"action": "create"})
    assert response["Location"] == "/castres/compte/cle/"
    with orm():
        user = User.objects.get(franceconnect__isnull=False)
    assert (user.first_name, user.last_name, user.role) == ("Camille", "Bernard", "family")
    assert not user.has_usable_password()
    assert int(signed_in_user(client, orm)) == user.pk
    # Then the activation key attaches the new account to the household, as today.
    from accounts.services import issue_activation_key
    from tests.factories import AdultFactory

    with orm():
        adult = AdultFactory(first_name="Camille", last_name="Bernard")
        _, key = issue_activation_key(adult=adult, issued_by=None)
    linked = client.post("/castres/compte/cle/", {"activation_key": key})
    assert linked.status_code == 302, html.unescape(linked.content.decode())[-3000:]
    assert linked["Location"] == "/castres/mon-espace/"
    with orm():
        adult.refresh_from_db()
    assert adult.user_id == user.pk


def test_an_existing_address_is_never_enough_to_take_an_account(client, castres, idsim, orm):
    with orm():
        victim = UserFactory(username="victime", email="claire.martin@fc.demo.invalid")
    client.get(sign_in_at_provider(start(client)))
    assert signed_in_user(client, orm) is None
    client.post(FIRST, {"action": "create"})
    with orm():
        created = User.objects.get(franceconnect__isnull=False)
        assert created.pk != victim.pk and created.email == ""
        assert not FranceConnectLink.objects.filter(user=victim).exists()


def test_staff_cannot_use_franceconnect(client, castres, idsim, orm):
    with orm():
        agent = UserFactory(username="agent.fc", role="agent", service_areas=["periscolaire"])
    client.get(sign_in_at_provider(start(client)))
    refused = client.post(FIRST, {"action": "link", "identifier": "agent.fc", "password": PASSWORD})
    assert refused.status_code == 400
    assert "agents" in refused.content.decode()
    assert accounts_state(orm)[1] == []
    assert signed_in_user(client, orm) is None
    # Even a link made behind the portal's back is refused at sign-in.
    with orm():
        FranceConnectLink.objects.create(user=agent, sub=CLAIRE_SUB)
    response = client.get(sign_in_at_provider(start(client)))
    assert response.status_code == 403
    assert "ne peuvent pas utiliser FranceConnect" in response.content.decode()
    assert signed_in_user(client, orm) is None


def _refused(response):
    assert response.status_code == 400
    text = response.content.decode()
    assert "Connexion avec FranceConnect impossible" in text
    assert "refusée" in text


@pytest.mark.parametrize(
    "tamper",
    [
        {"other_key": True},  # a token signed with another key
        {"claims": {"aud": "un-autre-client"}},  # a wrong audience
        {"claims": {"iss": "https://faux-fournisseur.example"}},  # a wrong issuer
        {"claims": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000}},  # expired
        {"claims": {"nonce": "pas-le-bon-nonce"}},  # a wrong nonce
        {"claims": {"acr": "eidas0"}},  # an eIDAS level below the one asked
    ],
    ids=["other-key", "audience", "issuer", "expired", "nonce", "eidas"],
)
def test_a_bad_id_token_is_refused_and_changes_nothing(client, family, idsim, tamper, orm):
    with orm():
        FranceConnectLink.objects.create(user=family.user, sub=CLAIRE_SUB)
    before = accounts_state(orm)
    idsim.tamper = tamper
    _refused(client.get(sign_in_at_provider(start(client))))
    assert accounts_state(orm) == before
    assert signed_in_user(client, orm) is None


def test_an_insufficient_eidas_level_is_refused(client, castres, idsim):
    from django.db import connection

    from tenants.testing import edit_town_config

    connection.set_schema_to_public()
    # Rolled back after the test.
    edit_town_config(castres, lambda d: d["franceconnect"].update(eidas_level="eidas2"))
    url = start(client)
    assert authorize_params(url)["acr_values"] == "eidas2"
    idsim.tamper = {"claims": {"acr": "eidas1"}}
    _refused(client.get(sign_in_at_provider(url)))


def test_a_wrong_state_is_refused(client, castres, idsim, orm):
    back = sign_in_at_provider(start(client))
    forged = back.replace("state=", "state=x")
    before = accounts_state(orm)
    _refused(client.get(forged))
    assert accounts_state(orm) == before


def test_a_callback_without_an_attempt_is_refused(client, castres, idsim):
    back = sign_in_at_provider(start(client))
    other = type(client)()
    _refused(other.get(back))


def test_a_replayed_code_is_refused(client, castres, idsim, orm):
    back = sign_in_at_provider(start(client), person="camille")
    assert client.get(back)["Location"] == FIRST
    before = accounts_state(orm)
    # The same answer again (state already used, code already spent).
    _refused(client.get(back))
    # Even with a fresh attempt's state, the spent code is refused by the provider.
    url = start(client)
    state = authorize_params(url)["state"]
    code = parse_qs(urlsplit(back).query)["code"][0]
    _refused(client.get(f"/castres/compte/franceconnect/retour/?code={code}&state={state}"))
    assert accounts_state(orm) == before


def test_cancelling_at_the_provider_comes_back_to_the_sign_in_page(client, castres, idsim):
    response = client.get(sign_in_at_provider(start(client), cancel=True))
    assert response["Location"] == "/castres/compte/connexion/"


def test_the_provider_down_gives_a_french_page_not_a_500(client, castres, idsim, settings):
    settings.FRANCECONNECT_ISSUERS = {
        **settings.FRANCECONNECT_ISSUERS,
        "integration": "http://127.0.0.1:9/fc",
    }
    response = client.post(START)
    assert response.status_code == 503
    assert "FranceConnect ne répond pas" in response.content.decode()


def test_sign_out_ends_the_provider_session_too(client, family, idsim, orm):
    with orm():
        FranceConnectLink.objects.create(user=family.user, sub=CLAIRE_SUB)
    assert client.get(sign_in_at_provider(start(client)))["Location"] == "/castres/mon-espace/"
    out = client.post("/castres/compte/deconnexion/")
    target = out["Location"]
    assert target.startswith(idsim.base_url + "/session/end?")
    params = authorize_params(target)
    assert params["id_token_hint"].count(".") == 2
    assert params["post_logout_redirect_uri"] == (
        "http://testserver/castres/compte/franceconnect/deconnecte/"
    )
    ended = requests.get(target, timeout=10, allow_redirects=False)
    assert ended.status_code == 302 and idsim.ended_sessions == 1
    back = urlsplit(ended.headers["Location"])
    done = client.get(f"{back.path}?{back.query}")
    assert done["Location"] == "/castres/"
    assert signed_in_user(client, orm) is None


def test_staff_unlink_franceconnect_then_the_identity_comes_back_to_the_first_use_choice(
    client, family, idsim, orm
):
    """The family's message sends them to the town hall to unlink: an agent sees
    on the family's record that Claire's account is linked (and since when, no
    more), unlinks it after ticking « Je confirme », the act is journalled, and
    Claire's next FranceConnect sign-in asks again to link or create. A family
    cannot call it; another household's adult is refused."""
    from django.test import Client

    from audit.models import AuditEntry
    from families.testing import login, make_family, make_staff

    with orm():
        FranceConnectLink.objects.create(user=family.user, sub=CLAIRE_SUB)
    record = f"/castres/gestion/familles/{family.household.pk}/"
    unlink = record + "franceconnect/delier/"
    agent = make_staff(family.commune, username="accueil.fc", areas=["periscolaire"])
    staff = Client()
    login(staff, family.commune, agent)
    page = html.unescape(staff.get(record).content.decode())
    assert "Connexion avec FranceConnect" in page and "Relié à FranceConnect" in page
    assert CLAIRE_SUB not in page

    parent = Client()
    login(parent, family.commune, family.user)
    assert parent.post(unlink, {"adult": family.adult.pk, "confirm": "oui"}).status_code == 403
    # Not confirmed, a stranger's adult, odd input: nothing changes.
    stranger = make_family(family.commune, key="autre-fc", last_name="Autre", children=0)
    for data in (
        {"adult": family.adult.pk},
        {"adult": stranger.adult.pk, "confirm": "oui"},
        {"adult": "²", "confirm": "oui"},
        {"adult": "9" * 30, "confirm": "oui"},
    ):
        assert staff.post(unlink, data).status_code == 302
    assert accounts_state(orm)[1] == [(family.user.pk, CLAIRE_SUB)]

    done = staff.post(unlink, {"adult": family.adult.pk, "confirm": "oui"}, follow=True)
    assert "FranceConnect est délié du compte de Claire Martin" in html.unescape(
        done.content.decode()
    )
    assert "Non relié à FranceConnect" in html.unescape(done.content.decode())
    with orm():
        assert not FranceConnectLink.objects.exists()
        entry = AuditEntry.objects.get(action="account.franceconnect_unlink")
        assert entry.actor_id == agent.pk and entry.household_id == family.household.pk
        assert CLAIRE_SUB not in str(entry.detail)
        family.user.refresh_from_db()
        assert family.user.is_active and family.user.has_usable_password()

    back = client.get(sign_in_at_provider(start(client)))
    assert back["Location"] == FIRST
    assert signed_in_user(client, orm) is None
