"""Sign-ins admitted at the rate the server can hash passwords (issue #19).

At a town's opening thousands of parents sign in in the same minute, and each
sign-in costs one deliberately slow password hash (Django's PBKDF2, 1,000,000
iterations: most of a CPU second). Weakening the hasher is out of the
question; instead the password check itself is admitted at a rate:

    rate = SIGNIN_GATE_CORES / measured hash time

- the hash time is MEASURED: every password check (the form's `authenticate`)
  reports its duration, kept in Redis as an exponential average (so the rate
  follows the machine, its load and a future change of the hasher's cost);
- `SIGNIN_GATE_CORES` cores at most hash at once (default: half the machine's
  cores), the others stay free for the bookings and the waiting room;
- `SIGNIN_GATE_BURST` sign-ins may hash at the same instant (default: as many
  as the cores): with sync web workers, a larger burst would let hashes hold
  every worker while the admitted households wait to book;
- over the rate, the sign-in is answered at once, WITHOUT hashing: 429, a
  French « réessayez dans N secondes » and its TURN: the next free slot is
  reserved for it (signed in a cookie, single use), so N grows with the
  sign-ins already waiting and coming back earlier changes nothing: a storm
  of parents does not turn into a storm of retries (a place in an opening's
  waiting room is kept through it: the queue's ticket is a cookie of its
  own). Slots are reserved within SIGNIN_GATE_HORIZON seconds; beyond, the
  answer is « réessayez dans N secondes » without a turn.

The admission is one Lua script (GCRA: the theoretical arrival time of the
next sign-in, atomic for every web worker of every town, since they share the
machine's cores: the keys are NOT per town). Redis unavailable: the gate lets
sign-ins through (the hash is then bounded by the web workers alone); it
never refuses a sign-in because of its own failure.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

KEY = "guichet:signin-gate"
DEFAULT_HASH_SECONDS = 0.5  # before the first measure

_ADMIT = """
-- KEYS[1]: state hash (tat: next theoretical arrival, s; hash_s: measured hash time)
-- ARGV: now (s), cores, burst, default hash time (s), horizon (s)
-- {1}: hash now; {2, slot}: a later slot reserved for this sign-in; {0, wait}: full.
local now = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'tat', 'hash_s')
local hash_s = tonumber(s[2] or ARGV[4])
local interval = math.max(hash_s, 0.001) / tonumber(ARGV[2])
local tolerance = interval * tonumber(ARGV[3])
local tat = math.max(tonumber(s[1] or '0'), now)
redis.call('EXPIRE', KEYS[1], 86400)
if tat - now < tolerance then
  redis.call('HSET', KEYS[1], 'tat', tostring(tat + interval))
  return {1, '0'}
end
local slot = tat - tolerance + interval
if slot - now > tonumber(ARGV[5]) then
  return {0, tostring(slot - now)}
end
redis.call('HSET', KEYS[1], 'tat', tostring(tat + interval))
redis.call('HINCRBY', KEYS[1], 'reserved', 1)
return {2, tostring(slot)}
"""

_MEASURED = """
-- KEYS[1]: state hash; ARGV: one hash time (s). Exponential average.
local old = tonumber(redis.call('HGET', KEYS[1], 'hash_s') or ARGV[1])
redis.call('HSET', KEYS[1], 'hash_s', tostring(old * 0.8 + tonumber(ARGV[1]) * 0.2))
redis.call('HINCRBY', KEYS[1], 'checked', 1)
return 1
"""


def cores() -> int:
    configured = getattr(settings, "SIGNIN_GATE_CORES", 0)
    return configured or max(1, (os.cpu_count() or 2) // 2)


def _client():
    import redis

    url = getattr(settings, "WAITING_ROOM_REDIS_URL", "") or settings.REDIS_URL
    if not url:
        return None
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


@dataclass(frozen=True)
class Turn:
    """The gate's answer: `wait` whole seconds (0: hash now) and the signed
    turn to keep in the browser (a cookie) until then ('' : none)."""

    wait: int
    token: str = ""


def admit(token: str = "", now: float | None = None) -> Turn:
    """May this sign-in check its password now? Over the rate, the sign-in
    gets a turn (a slot `interval` after the last one reserved, within
    SIGNIN_GATE_HORIZON seconds): coming back with it at its time, it hashes
    without taking another slot, once. Fails open when Redis cannot be
    reached or is not configured."""
    import redis

    if not getattr(settings, "SIGNIN_GATE", True):
        return Turn(0)
    now = time.time() if now is None else now
    try:
        client = _client()
        if client is None:
            return Turn(0)
        held = _read_turn(token, now)
        if held is not None:
            slot, nonce = held
            if slot > now + 0.25:
                return Turn(math.ceil(slot - now), token)
            # Its time has come: once only (a copied or replayed turn is worthless).
            if client.set(f"{KEY}:used:{nonce}", 1, nx=True, ex=2 * STALE_TURN_SECONDS):
                return Turn(0)
        code, value = client.register_script(_ADMIT)(
            keys=[KEY],
            args=[
                repr(now),
                cores(),
                getattr(settings, "SIGNIN_GATE_BURST", 0) or cores(),
                DEFAULT_HASH_SECONDS,
                getattr(settings, "SIGNIN_GATE_HORIZON", 900),
            ],
        )
    except redis.RedisError:
        return Turn(0)
    code, value = int(code), float(value)
    if code == 1:
        return Turn(0)
    if code == 2:
        turn = signing.dumps({"s": value, "n": secrets.token_urlsafe(9)}, salt=_SALT)
        return Turn(max(1, math.ceil(value - now)), turn)
    return Turn(max(1, math.ceil(value)))


STALE_TURN_SECONDS = 300  # a turn not used within 5 minutes of its time is void
_SALT = "accounts.signin_gate.turn"


def _read_turn(token: str, now: float):
    if not token:
        return None
    try:
        data = signing.loads(token, salt=_SALT, max_age=(24 * 3600))
        slot, nonce = float(data["s"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if slot < now - STALE_TURN_SECONDS:
        return None
    return slot, nonce


def measured(seconds: float) -> None:
    """A password check took `seconds`: the rate follows it."""
    import redis

    try:
        client = _client()
        if client is not None:
            client.register_script(_MEASURED)(keys=[KEY], args=[repr(max(seconds, 0.0001))])
    except redis.RedisError:
        pass


def figures() -> dict:
    """The measured hash time, the rate it allows and the checks counted."""
    import redis

    try:
        client = _client()
        values = client.hmget(KEY, "hash_s", "checked") if client is not None else [None, None]
    except redis.RedisError:
        values = [None, None]
    hash_s = float(values[0] or DEFAULT_HASH_SECONDS)
    return {
        "hash_s": hash_s,
        "cores": cores(),
        "per_second": cores() / hash_s,
        "checked": int(values[1] or 0),
    }


TURN_COOKIE = "guichet_connexion_tour"


def wait_message(seconds: int) -> str:
    if seconds < 90:
        delay = f"{seconds} seconde{'s' if seconds > 1 else ''}"
    else:
        delay = f"environ {math.ceil(seconds / 60)} minutes"
    return (
        f"Beaucoup de familles se connectent en ce moment : réessayez dans {delay}, "
        "votre tour de connexion vous est gardé. Si vous attendez dans la file "
        "d'une ouverture, votre place est gardée aussi."
    )
