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
- over the rate, the sign-in is answered at once, WITHOUT hashing: 429 and a
  French « réessayez dans N secondes » (a place in an opening's waiting room
  is kept through it: the queue's ticket is a cookie of its own).

The admission is one Lua script (GCRA: the theoretical arrival time of the
next sign-in, atomic for every web worker of every town, since they share the
machine's cores: the keys are NOT per town). Redis unavailable: the gate lets
sign-ins through (the hash is then bounded by the web workers alone); it
never refuses a sign-in because of its own failure.
"""

from __future__ import annotations

import math
import os
import time

from django.conf import settings

KEY = "guichet:signin-gate"
DEFAULT_HASH_SECONDS = 0.5  # before the first measure

_ADMIT = """
-- KEYS[1]: state hash (tat: next theoretical arrival, s; hash_s: measured hash time)
-- ARGV: now (s), cores, burst, default hash time (s)
local now = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'tat', 'hash_s')
local hash_s = tonumber(s[2] or ARGV[4])
local interval = math.max(hash_s, 0.001) / tonumber(ARGV[2])
local tolerance = interval * tonumber(ARGV[3])
local tat = math.max(tonumber(s[1] or '0'), now)
if tat - now >= tolerance then
  return {0, tostring(tat - now - tolerance + interval), tostring(hash_s)}
end
redis.call('HSET', KEYS[1], 'tat', tostring(tat + interval))
redis.call('EXPIRE', KEYS[1], 86400)
return {1, '0', tostring(hash_s)}
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


def admit(now: float | None = None) -> int:
    """0 when this sign-in may check its password now, else the whole seconds
    to wait. Fails open (0) when Redis cannot be reached or is not configured."""
    import redis

    if not getattr(settings, "SIGNIN_GATE", True):
        return 0
    try:
        client = _client()
        if client is None:
            return 0
        ok, wait, _hash_s = client.register_script(_ADMIT)(
            keys=[KEY],
            args=[
                repr(time.time() if now is None else now),
                cores(),
                getattr(settings, "SIGNIN_GATE_BURST", 0) or cores(),
                DEFAULT_HASH_SECONDS,
            ],
        )
    except redis.RedisError:
        return 0
    return 0 if int(ok) else max(1, math.ceil(float(wait)))


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


def wait_message(seconds: int) -> str:
    unit = "seconde" if seconds == 1 else "secondes"
    return (
        "Beaucoup de familles se connectent en ce moment : réessayez dans "
        f"{seconds} {unit}. Si vous attendez dans la file d'une ouverture, "
        "votre place est gardée."
    )
