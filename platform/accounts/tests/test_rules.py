"""Pure rules of accounts: table-driven and property-based."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts import rules
from accounts.rules import ThrottlePolicy

POLICY = ThrottlePolicy(free=5, base=30, cap=900, forget_after=86400)


@pytest.mark.parametrize(
    "failures, delay",
    [
        (0, 0),
        (4, 0),
        (5, 30),
        (6, 60),
        (7, 120),
        (8, 240),
        (9, 480),
        (10, 900),
        (11, 900),
        (500, 900),
    ],
)
def test_throttle_delay_grows_then_caps(failures, delay):
    assert rules.throttle_delay(failures, POLICY) == delay


@given(st.integers(min_value=0, max_value=10_000))
def test_throttle_delay_is_bounded_and_monotonic(failures):
    # Never a permanent lockout: the wait is always at most the cap.
    assert 0 <= rules.throttle_delay(failures, POLICY) <= POLICY.cap
    assert rules.throttle_delay(failures + 1, POLICY) >= rules.throttle_delay(failures, POLICY)


@given(st.integers(min_value=0, max_value=10_000), st.floats(min_value=0, max_value=10**6))
def test_after_the_delay_an_attempt_is_always_allowed(failures, since):
    now = 1_000_000.0
    left = rules.seconds_left(failures, now - since, now, POLICY)
    assert left <= POLICY.cap
    if since >= rules.throttle_delay(failures, POLICY) or since >= POLICY.forget_after:
        assert left == 0


def test_counters_are_forgotten_after_a_day():
    assert rules.seconds_left(10_000, 0.0, 86400.0, POLICY) == 0


@pytest.mark.parametrize(
    "seconds, text",
    [
        (1, "1 minute"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (900, "15 minutes"),
    ],
)
def test_wait_message_in_french(seconds, text):
    assert rules.wait_message(seconds).endswith(f"réessayez dans {text}.")


@pytest.mark.parametrize(
    "typed, normalized",
    [
        ("k7qf-m2xr-9tda-hw3p", "K7QFM2XR9TDAHW3P"),
        (" K7QF M2XR 9TDA HW3P ", "K7QFM2XR9TDAHW3P"),
        ("O0IL-1111-2222-3333", "0011111122223333"),  # O->0, I/L->1 (Crockford)
        ("", ""),
    ],
)
def test_normalize_key(typed, normalized):
    assert rules.normalize_key(typed) == normalized


@given(st.text(alphabet=rules.KEY_ALPHABET, min_size=16, max_size=16))
def test_formatted_keys_read_back(key):
    assert rules.key_is_well_formed(key)
    assert rules.normalize_key(rules.format_key(key)) == key
    assert rules.normalize_key(rules.format_key(key).lower()) == key


@pytest.mark.parametrize(
    "key", ["ABC", "K7QFM2XR9TDAHW3PX", "K7QFM2XR9TDAHW3U", "K7QFM2XR9TDAHW3!"]
)
def test_malformed_keys(key):
    assert not rules.key_is_well_formed(key)


@pytest.mark.parametrize(
    "raw, phone",
    [
        ("0612345678", "06 12 34 56 78"),
        ("06.12.34.56.78", "06 12 34 56 78"),
        ("+33 6 12 34 56 78", "06 12 34 56 78"),
        ("0033563624344", "05 63 62 43 44"),
        ("06 12 34 56", None),
        ("00 12 34 56 78", None),
        ("06123456789", None),
        ("téléphone", None),
        ("", None),
    ],
)
def test_french_phone(raw, phone):
    assert rules.normalize_french_phone(raw) == phone


@pytest.mark.parametrize(
    "username, ok",
    [
        ("claire.martin", True),
        ("cm", False),
        ("claire@martin", False),
        ("clàire", False),
        ("-claire", False),
        ("a" * 41, False),
        ("famille_2", True),
    ],
)
def test_username_rules(username, ok):
    assert (rules.username_problem(username) is None) is ok


NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "kwargs, starts",
    [
        ({"exists": False}, "Cette clé n'est pas reconnue"),
        ({"revoked": True}, "Cette clé a été remplacée"),
        ({"used": True}, "Cette clé a déjà servi"),
        ({"adult_has_account": True}, "Cette clé a déjà servi"),
        ({"expires_at": NOW - timedelta(days=1)}, "Cette clé a expiré le 09/01/2027"),
        ({}, None),
    ],
)
def test_key_problem(kwargs, starts):
    base = {
        "exists": True,
        "revoked": False,
        "used": False,
        "expires_at": NOW + timedelta(days=1),
        "now": NOW,
        "adult_has_account": False,
    }
    problem = rules.key_problem(**(base | kwargs))
    assert (problem is None) if starts is None else problem.startswith(starts)
