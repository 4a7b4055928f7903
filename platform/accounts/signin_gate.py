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
  French « réessayez dans N secondes » and its TURN, a number (signed in a
  cookie, single use), as at a bakery's counter: turns are admitted in
  order at the CURRENT rate (the admitted count grows with time × rate, so a
  faster hash serves the waiting turns sooner), N = the turns before it ÷
  the rate, recomputed at each visit; coming back earlier takes no new
  turn: a storm of parents does not turn into a storm of retries (a place
  in an opening's waiting room is kept through it: the queue's ticket is a
  cookie of its own). Turns are given within SIGNIN_GATE_HORIZON seconds of
  wait; beyond, « réessayez dans N secondes » without a turn.

The admission is one Lua script (turns issued, turns admitted so far and the
instant of that count: atomic for every web worker of every town, since they
share the machine's cores: the keys are NOT per town); an idle gate keeps at
most `burst` turns of credit. Redis unavailable: the gate lets
sign-ins through (the hash is then bounded by the web workers alone); it
never refuses a sign-in because of its own failure.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core import signing

from core import redis_client

KEY = "guichet:signin-gate"
DEFAULT_HASH_SECONDS = 0.5  # before the first measure

_ADMIT = """
-- KEYS[1]: state hash (issued: turns given; upto: turns admitted so far, grows
--          with time x rate; last: instant of upto (s); hash_s: measured hash time)
-- ARGV: now (s), cores, burst, default hash time (s), horizon (s), turn ('' : none)
-- {1}: hash now; {2, turn, wait}: a turn given; {3, wait}: the turn's wait;
-- {0, wait}: no turn (the wait is beyond the horizon).
local now = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'issued', 'upto', 'last', 'hash_s')
local burst = tonumber(ARGV[3])
local issued = tonumber(s[1] or '0')
local upto = tonumber(s[2] or tostring(burst))
local last = tonumber(s[3] or ARGV[1])
local rate = tonumber(ARGV[2]) / math.max(tonumber(s[4] or ARGV[4]), 0.001)
if now > last then upto = upto + (now - last) * rate end
upto = math.min(upto, issued + burst)
redis.call('HSET', KEYS[1], 'upto', tostring(upto), 'last', tostring(math.max(now, last)))
redis.call('EXPIRE', KEYS[1], 86400)
if ARGV[6] ~= '' then
  local turn = tonumber(ARGV[6])
  if turn <= upto then return {1, '0'} end
  return {3, tostring((turn - upto) / rate)}
end
local turn = issued + 1
local wait = (turn - upto) / rate
if turn > upto and wait > tonumber(ARGV[5]) then return {0, tostring(wait)} end
redis.call('HSET', KEYS[1], 'issued', tostring(turn))
if turn <= upto then return {1, '0'} end
return {2, tostring(turn), tostring(wait)}
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
    url = getattr(settings, "WAITING_ROOM_REDIS_URL", "") or settings.REDIS_URL
    if not url:
        return None
    return redis_client.client(url, 0.5)


@dataclass(frozen=True)
class Turn:
    """The gate's answer: `wait` whole seconds (0: hash now) and the signed
    turn to keep in the browser (a cookie) until then ('' : none)."""

    wait: int
    token: str = ""


def admit(token: str = "", now: float | None = None) -> Turn:
    """May this sign-in check its password now? Over the rate, the sign-in
    gets a turn (a number, admitted in order at the current rate): coming
    back with it, it hashes when its number has come, once, without taking
    another. Fails open when Redis cannot be reached or is not configured."""

    if not getattr(settings, "SIGNIN_GATE", True):
        return Turn(0)
    now = time.time() if now is None else now
    try:
        client = _client()
        if client is None:
            return Turn(0)
        held = _read_turn(token)
        if held is not None and client.exists(f"{KEY}:used:{held[1]}"):
            held = None  # used already: a copied or replayed turn is worthless
        result = client.register_script(_ADMIT)(
            keys=[KEY],
            args=[
                repr(now),
                cores(),
                getattr(settings, "SIGNIN_GATE_BURST", 0) or cores(),
                DEFAULT_HASH_SECONDS,
                getattr(settings, "SIGNIN_GATE_HORIZON", 900),
                "" if held is None else repr(held[0]),
            ],
        )
        code = int(result[0])
        if code == 1 and held is not None:
            if not client.set(f"{KEY}:used:{held[1]}", 1, nx=True, ex=TURN_MEMORY_SECONDS):
                return Turn(1)  # the same turn used at this very instant elsewhere
    except redis.RedisError:
        return Turn(0)
    if code == 1:
        return Turn(0)
    if code == 2:
        turn = signing.dumps({"t": float(result[1]), "n": secrets.token_urlsafe(9)}, salt=_SALT)
        return Turn(max(1, math.ceil(float(result[2]))), turn)
    if code == 3:
        return Turn(max(1, math.ceil(float(result[1]))), token)
    return Turn(max(1, math.ceil(float(result[1]))))


LOOK_AGAIN_SECONDS = 30  # Retry-After at most: the estimate is refreshed at each visit
TURN_MEMORY_SECONDS = 24 * 3600  # a used turn is remembered (and worthless) this long
STALE_TURN_SECONDS = 300  # the turn's cookie outlives its expected wait by this
_SALT = "accounts.signin_gate.turn"


def _read_turn(token: str):
    """(turn number, nonce) of a signed turn of the last day, else None."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=_SALT, max_age=TURN_MEMORY_SECONDS)
        return float(data["t"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def measured(seconds: float) -> None:
    """A password check took `seconds`: the rate follows it."""

    try:
        client = _client()
        if client is not None:
            client.register_script(_MEASURED)(keys=[KEY], args=[repr(max(seconds, 0.0001))])
    except redis.RedisError:
        pass


def figures() -> dict:
    """The measured hash time, the rate it allows and the checks counted."""

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
