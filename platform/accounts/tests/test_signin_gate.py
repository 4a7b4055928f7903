"""The sign-in gate (accounts.signin_gate, issue #19): password checks admitted
at the measured rate the server hashes, over it an immediate French 429
without any hash; the production hasher is never weakened; Redis down lets
sign-ins through. On the real Redis (REDIS_URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from django.conf import global_settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher

from accounts import signin_gate

LOGIN = "/castres/compte/connexion/"
PASSWORD = "mot-de-passe-de-test-assez-long"  # tests.factories.UserFactory's
NOW = datetime(2027, 3, 1, 7, 29, tzinfo=UTC)


@pytest.fixture
def gate(settings):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL absent")
    settings.SIGNIN_GATE = True
    settings.SIGNIN_GATE_CORES = 1
    settings.SIGNIN_GATE_BURST = 3
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(signin_gate.KEY)
    yield client
    client.delete(signin_gate.KEY)


def _sign_in(client, password=PASSWORD):
    return client.post(LOGIN, {"identifier": "martin", "password": password})


def test_the_production_hasher_is_never_weakened():
    """The gate is the only answer to a sign-in storm: production keeps
    Django's PBKDF2-SHA256 at ≥ 600,000 iterations (OWASP 2023; CNIL: a
    slow, salted, iterated function)."""
    from portal.settings import base

    hashers = getattr(base, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)
    assert hashers[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    assert PBKDF2PasswordHasher.iterations >= 600_000
    assert not hasattr(base, "SIGNIN_GATE_ITERATIONS")  # nothing trades the hash for speed


def test_over_the_measured_rate_a_sign_in_waits_without_any_hash(client, family, gate):
    gate.hset(signin_gate.KEY, "hash_s", "2.0")  # as measured: 2 s a hash, 1 core
    with time_machine.travel(NOW, tick=False) as clock:
        for _ in range(3):  # the burst
            assert _sign_in(client).status_code == 302
            client.post("/castres/compte/deconnexion/")
        refused = _sign_in(client)
        assert refused.status_code == 429
        wait = int(refused["Retry-After"])
        assert 1 <= wait <= 5
        [message] = refused.context["form"].errors["__all__"]
        assert message.startswith("Beaucoup de familles se connectent en ce moment : réessayez")
        assert "votre tour de connexion vous est gardé" in message
        assert int(gate.hget(signin_gate.KEY, "checked")) == 3  # the 4th was never hashed
        clock.shift(timedelta(seconds=wait))
        assert _sign_in(client).status_code == 302
    assert int(gate.hget(signin_gate.KEY, "checked")) == 4


def test_the_rate_follows_the_measured_hash_time(gate, settings):
    for _ in range(30):
        signin_gate.measured(0.25)
    figures = signin_gate.figures()
    assert figures["hash_s"] == pytest.approx(0.25, rel=0.05)
    assert figures["per_second"] == pytest.approx(4.0, rel=0.05)  # 1 core / 0.25 s
    settings.SIGNIN_GATE_CORES = 3
    assert signin_gate.figures()["per_second"] == pytest.approx(12.0, rel=0.05)


def test_a_real_pbkdf2_sign_in_is_measured(client, family, gate, settings, in_town):
    """With the production hasher, the measure is the hash's real cost."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    with in_town(family.commune):
        family.user.set_password(PASSWORD)
        family.user.save(update_fields=["password"])
    assert get_hasher().algorithm == "pbkdf2_sha256"
    assert _sign_in(client).status_code == 302
    figures = signin_gate.figures()
    assert figures["checked"] == 1
    assert figures["hash_s"] > 0.05, figures  # 1,000,000 iterations: far from free


def test_redis_down_lets_sign_ins_through(client, family, settings):
    settings.SIGNIN_GATE, settings.SIGNIN_GATE_CORES = True, 1  # one hash at a time
    settings.WAITING_ROOM_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with time_machine.travel(NOW, tick=False):  # a working gate would refuse the second
        for _ in range(2):
            assert _sign_in(client).status_code == 302
            client.post("/castres/compte/deconnexion/")


def test_by_default_as_many_sign_ins_hash_at_once_as_the_gate_has_cores(
    client, family, gate, settings
):
    settings.SIGNIN_GATE_BURST = 0  # the default: the cores
    settings.SIGNIN_GATE_CORES = 2
    gate.hset(signin_gate.KEY, "hash_s", "3.0")
    with time_machine.travel(NOW, tick=False):
        for _ in range(2):
            assert _sign_in(client).status_code == 302
            client.post("/castres/compte/deconnexion/")
        assert _sign_in(client).status_code == 429


def test_a_storm_gets_turns_one_hash_apart_and_retries_change_nothing(family, gate, settings):
    """Ten browsers at the same instant, one core, 1 s a hash: the first hashes
    now, the others get turns 1 s apart (Retry-After 1..9); coming back early
    keeps the same turn (no new one taken); at its time each one hashes, once;
    a used turn copied into another browser is worth nothing."""
    from django.test import Client

    settings.SIGNIN_GATE_BURST = 1
    gate.hset(signin_gate.KEY, "hash_s", "1.0")
    browsers = [Client() for _ in range(10)]
    with time_machine.travel(NOW, tick=False) as clock:
        answers = [_sign_in(browsers[0])]
        assert answers[0].status_code == 302
        gate.hset(signin_gate.KEY, "hash_s", "1.0")  # the test hasher is fast: keep 1 s
        answers += [_sign_in(b) for b in browsers[1:]]
        waits = [int(a["Retry-After"]) for a in answers[1:]]
        assert waits == list(range(1, 10)), waits
        assert int(gate.hget(signin_gate.KEY, "issued")) == 10
        again = _sign_in(browsers[5])  # too early: the same turn, no new one
        assert again.status_code == 429 and int(again["Retry-After"]) == 5
        assert int(gate.hget(signin_gate.KEY, "issued")) == 10
        clock.shift(timedelta(seconds=5))
        for b in browsers[1:6]:
            response = _sign_in(b)
            assert response.status_code == 302
            assert response.cookies[signin_gate.TURN_COOKIE].value == ""  # forgotten
        replay = Client()
        replay.cookies[signin_gate.TURN_COOKIE] = answers[5].cookies[signin_gate.TURN_COOKIE].value
        assert _sign_in(replay).status_code == 429  # used already: a new turn, after the 9th
        assert int(gate.hget(signin_gate.KEY, "checked")) == 6


def test_waiting_turns_are_served_at_the_current_rate(client, family, gate, settings):
    """Turns given while a hash took 3 s are served sooner once it takes 1 s:
    the waits follow the measured rate, not the rate at the time of the turn."""
    settings.SIGNIN_GATE_BURST = 1
    gate.hset(signin_gate.KEY, mapping={"hash_s": "3.0", "issued": "10", "upto": "0"})
    with time_machine.travel(NOW, tick=False) as clock:
        gate.hset(signin_gate.KEY, "last", repr(NOW.timestamp()))
        first = _sign_in(client)
        assert "réessayez dans 33 secondes" in first.content.decode()  # turn 11, 3 s a turn
        assert int(first["Retry-After"]) == 30  # look again within 30 s: the rate may change
        gate.hset(signin_gate.KEY, "hash_s", "1.0")  # the machine got faster
        assert int(_sign_in(client)["Retry-After"]) == 11
        clock.shift(timedelta(seconds=11))
        assert _sign_in(client).status_code == 302
