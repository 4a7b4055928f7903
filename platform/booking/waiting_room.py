"""The waiting room of an opening (issue #19): when a town opens a reservation
period with `waiting_room` on, families queue and are admitted at the rate the
server serves bookings.

- Place: one per household. Anyone who arrives during the `early_minutes`
  before the opening (signed in or not yet) gets a score drawn at random in
  [0, 1) (uniform, from `secrets`): arriving first or reloading gains
  nothing. Any later arrival gets 1 + its arrival number. The queue is ONE
  Redis sorted set; a place is its rank. Reloading never loses it: the
  ticket is in a signed cookie and the household's ticket in Redis (a second
  device of the household gets the same).
- A household keeps the FIRST place it claims (signing in on a device binds
  that device's ticket to it). Collecting many anonymous tickets gains
  nothing: only the first one signed in counts, and an anonymous ticket's
  place and admission are not shown until it is signed in (no choosing the
  best one). A ticket already bound to another household (a copied cookie)
  gives a place of its own, in arrival order.
- Admission: the number of places admitted grows with time since the opening
  at `rate` places a second (the measured service time of the period's
  bookings over the configured concurrency, capped by the period's
  `admit_per_minute`), and only while the households admitted in the last
  `WAITING_ROOM_RECENT_SECONDS` and not yet served stay under the window
  (`WAITING_ROOM_WINDOW`, default 8 × the concurrency): when the web tier
  slows down, its bookings are answered later, and admission waits for them
  instead of piling admitted households onto busy workers. Staff may pause,
  resume, extend.
- Polling: the status fragment tells each page when to ask again (about half
  its estimated wait, between 2 and 30 s, jittered): households far back ask
  rarely, the next ones often, and nobody's poll is synchronised on the
  opening's second.
- Pass: an admitted, signed-in household gets a signed cookie naming its
  household, the town, the period, a hash of its session cookie and the
  instant of its admission; it is valid `pass_minutes`. During the room's
  window the period's booking writes require it (`guard`), else 429 with the
  queue's address.
- State lives in Redis only, changed by Lua scripts (atomic): a restarted web
  worker loses nobody's place. Redis unavailable during the window: the room
  fails CLOSED (`RoomUnavailable`, a French 503 page), never open to a stampede.
- The queue's status fragment costs no database query (tests assert it).
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.core import signing
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from booking import selectors
from booking.selectors import Opening
from core import redis_client

TICKET_COOKIE = "guichet_file_{pid}"
PASS_COOKIE = "guichet_passage_{pid}"
PASS_HEADER = "HTTP_X_GUICHET_PASSAGE"
_SALT_TICKET = "booking.waiting_room.ticket"
_SALT_PASS = "booking.waiting_room.pass"


class RoomUnavailable(Exception):
    """Redis cannot be reached: the room stays closed (fail closed)."""


@dataclass(frozen=True)
class Place:
    ticket: str
    rank: int  # 0-based place in the queue
    drawn: bool  # in the random draw (arrived signed in before the opening)
    admitted_upto: int  # places 0 .. admitted_upto-1 are admitted
    rate: float  # places admitted per second now
    paused: bool

    @property
    def admitted(self) -> bool:
        return self.rank < self.admitted_upto

    @property
    def ahead(self) -> int:
        """Households still waiting before this one."""
        return max(0, self.rank - self.admitted_upto)

    @property
    def wait_seconds(self) -> int | None:
        if self.admitted:
            return 0
        if self.paused or self.rate <= 0:
            return None
        return math.ceil((self.ahead + 1) / self.rate)


MIN_POLL_SECONDS, MAX_POLL_SECONDS = 2, 30


def poll_seconds(place: Place | None, until_opening: float, rng=None) -> int:
    """When the page asks again: about half the estimated time until the
    place is admitted (the time until the opening, then the places before it
    at the current rate), between 2 and 30 s, ±15 % so that the pages of a
    crowd do not ask in the same second."""
    if place is None or place.paused or place.rate <= 0:
        eta = MAX_POLL_SECONDS * 2
    elif place.admitted:
        eta = 0.0
    else:
        eta = max(0.0, until_opening) + (place.ahead + 1) / place.rate
    rng = rng or _jitter
    seconds = min(MAX_POLL_SECONDS, max(MIN_POLL_SECONDS, eta / 2)) * rng.uniform(0.85, 1.15)
    return max(MIN_POLL_SECONDS, round(seconds))


_jitter = random.Random()  # noqa: S311 - spreads polls, decides nothing


# --- Redis ---------------------------------------------------------------------------------

_JOIN = """
-- KEYS: queue (zset), sequence (counter), household -> ticket (hash), ticket -> household (hash)
-- ARGV: ticket, drawn score ('' = arrival order), household ('' = not signed in), a fresh ticket
local ticket, household = ARGV[1], ARGV[3]
if household ~= '' then
  local known = redis.call('HGET', KEYS[3], household)
  local owner = redis.call('HGET', KEYS[4], ticket)
  if known then
    -- One place per household: the FIRST it claimed. This device's anonymous
    -- ticket, if another, leaves the queue.
    if known ~= ticket and not owner then redis.call('ZREM', KEYS[1], ticket) end
    ticket = known
  else
    -- A ticket bound to another household (a copied cookie) is not this one's.
    if owner and owner ~= household then ticket = ARGV[4] end
    redis.call('HSET', KEYS[3], household, ticket)
    redis.call('HSET', KEYS[4], ticket, household)
  end
end
if not redis.call('ZSCORE', KEYS[1], ticket) then
  local score = ARGV[2]
  if score == '' then score = 1 + redis.call('INCR', KEYS[2]) end
  redis.call('ZADD', KEYS[1], score, ticket)
end
return {ticket, redis.call('ZRANK', KEYS[1], ticket), redis.call('ZSCORE', KEYS[1], ticket)}
"""

_ADVANCE = """
-- KEYS: state (hash: upto, last, paused, service_ms, held), recent admissions (zset place -> ms),
--       recent bookings served (zset n -> ms), queue (zset)
-- ARGV: now (ms), opening (ms), cap (places/s), concurrency, window (places), recent (ms),
--       notice (s: the quickest poll, when the admitted see their turn)
-- {admitted up to, pace (places/s), paused}
local now, opens = tonumber(ARGV[1]), tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'upto', 'last', 'paused', 'service_ms', 'held')
local upto = tonumber(s[1] or '0')
local last = tonumber(s[2] or ARGV[2])
local service_ms = tonumber(s[4] or '50')
local held = tonumber(s[5] or '0')
local rate = math.min(tonumber(ARGV[3]), tonumber(ARGV[4]) * 1000 / math.max(service_ms, 1))
-- The pace households are told: the rate, but no more than the window can pass
-- while the admitted notice their turn; while the window holds admission back
-- (lately), the places really admitted lately.
local pace = math.min(rate, tonumber(ARGV[5]) / tonumber(ARGV[7]))
if now < opens then return {0, tostring(pace), s[3] or '0'} end
if last < opens then last = opens end
local recent = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - recent)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - recent)
if s[3] ~= '1' and now > last then
  -- Admitted lately and not served yet: the window's use.
  local pending = redis.call('ZCARD', KEYS[2]) - redis.call('ZCARD', KEYS[3])
  local room = tonumber(ARGV[5]) - math.max(pending, 0)
  local queued = redis.call('ZCARD', KEYS[4])
  if room <= 0 then held = now end
  if room > 0 and upto < queued then
    local before = math.floor(upto)
    upto = math.min(upto + math.min((now - last) / 1000 * rate, room), queued)
    for i = before, math.floor(upto) - 1 do redis.call('ZADD', KEYS[2], now, i) end
  end
end
if now > last then last = now end
redis.call('HSET', KEYS[1], 'upto', tostring(upto), 'last', last, 'held', held)
local span = math.min(now - opens, recent)
if span >= 5000 and now - held < recent then
  local lately = redis.call('ZCARD', KEYS[2]) * 1000 / span
  if lately > 0 and lately < pace then pace = lately end
end
return {math.floor(upto), tostring(pace), s[3] or '0'}
"""

_SERVED = """
-- KEYS: state, recent bookings served (zset n -> ms); ARGV: service time (ms), now (ms).
-- Exponential average of the last bookings' service time; the booking counts in the window.
local old = tonumber(redis.call('HGET', KEYS[1], 'service_ms') or ARGV[1])
redis.call('HSET', KEYS[1], 'service_ms', tostring(old * 0.9 + tonumber(ARGV[1]) * 0.1))
local n = redis.call('HINCRBY', KEYS[1], 'served', 1)
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), n)
return n
"""

_ADMIT = """
-- KEYS: admitted households (hash household -> admission ms); ARGV: household, now (ms)
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])
"""


def _redis():
    url = getattr(settings, "WAITING_ROOM_REDIS_URL", "") or settings.REDIS_URL
    if not url:
        raise RoomUnavailable("no Redis configured")
    return redis_client.client(url, 1)


class Room:
    """One opening's queue in Redis (keys carry the town's schema)."""

    _scripts: dict = {}

    def __init__(self, opening: Opening, schema: str | None = None, client=None, rng=None):
        self.opening = opening
        self.schema = schema or connection.schema_name
        self.client = client
        # The draw's random source: the system's (secrets) in production; a
        # seeded one in the fairness test.
        self.rng = rng or secrets.SystemRandom()
        base = f"guichet:wr:{self.schema}:{opening.period_id}"
        self.queue, self.seq, self.households = f"{base}:q", f"{base}:seq", f"{base}:h"
        self.owners = f"{base}:owner"
        self.state, self.admitted = f"{base}:state", f"{base}:admitted"
        self.recent_admits, self.recent_served = f"{base}:ra", f"{base}:rs"

    def _run(self, name: str, source: str, keys: list, args: list):
        try:
            client = self.client or _redis()
            script = client.register_script(source)
            return script(keys=keys, args=args)
        except redis.RedisError as exc:
            raise RoomUnavailable(str(exc)) from exc

    def _ms(self, when: datetime) -> int:
        return int(when.timestamp() * 1000)

    def join(self, ticket: str, household_id: int | None, now: datetime) -> Place:
        drawn = self.opening.early_from <= now < self.opening.opens_at
        score = repr(self.rng.random()) if drawn else ""
        ticket, _rank, score = self._run(
            "join",
            _JOIN,
            [self.queue, self.seq, self.households, self.owners],
            [ticket, score, "" if household_id is None else str(household_id), new_ticket()],
        )
        return self.place(ticket.decode() if isinstance(ticket, bytes) else ticket, now)

    def place(self, ticket: str, now: datetime) -> Place | None:
        upto, rate, paused = self.advance(now)
        try:
            client = self.client or _redis()
            pipe = client.pipeline(transaction=False)
            pipe.zrank(self.queue, ticket)
            pipe.zscore(self.queue, ticket)
            rank, score = pipe.execute()
        except redis.RedisError as exc:
            raise RoomUnavailable(str(exc)) from exc
        if rank is None:
            return None
        return Place(ticket, int(rank), float(score) < 1, upto, rate, paused)

    def advance(self, now: datetime) -> tuple[int, float, bool]:
        """Admit the places due by `now`; (admitted up to, rate, paused)."""
        cap = self.opening.admit_per_minute / 60
        concurrency = getattr(settings, "WAITING_ROOM_CONCURRENCY", 4)
        window = getattr(settings, "WAITING_ROOM_WINDOW", 0) or 8 * concurrency
        recent = getattr(settings, "WAITING_ROOM_RECENT_SECONDS", 30)
        upto, rate, paused = self._run(
            "advance",
            _ADVANCE,
            [self.state, self.recent_admits, self.recent_served, self.queue],
            [
                self._ms(now),
                self._ms(self.opening.opens_at),
                cap,
                concurrency,
                window,
                recent * 1000,
                MIN_POLL_SECONDS,
            ],
        )
        return int(upto), float(rate), paused in (b"1", "1")

    def admit(self, household_id: int, now: datetime) -> int:
        """The instant (ms) the household was first admitted: its pass runs from it."""
        return int(self._run("admit", _ADMIT, [self.admitted], [household_id, self._ms(now)]))

    def served(self, seconds: float, now: datetime) -> None:
        self._run(
            "served",
            _SERVED,
            [self.state, self.recent_served],
            [max(1, int(seconds * 1000)), self._ms(now)],
        )

    # -- staff -------------------------------------------------------------------------------

    def set_paused(self, paused: bool, now: datetime) -> None:
        self.advance(now)  # what was due before the pause is admitted
        self._call(lambda c: c.hset(self.state, "paused", "1" if paused else "0"))

    def extend(self, minutes: int) -> int:
        """Keep the room open `minutes` longer (4 hours in all at most)."""
        extra = self.extra_minutes()
        minutes = max(0, min(minutes, MAX_EXTRA_MINUTES - extra))
        return int(self._call(lambda c: c.hincrby(self.state, "extra_minutes", minutes)))

    def extra_minutes(self) -> int:
        value = self._call(lambda c: c.hget(self.state, "extra_minutes"))
        return int(value or 0)

    def figures(self, now: datetime) -> dict:
        upto, rate, paused = self.advance(now)

        def read(c):
            pipe = c.pipeline(transaction=False)
            pipe.zcard(self.queue)
            pipe.hlen(self.admitted)
            pipe.hget(self.state, "served")
            pipe.hget(self.state, "service_ms")
            return pipe.execute()

        size, admitted, served, service_ms = self._call(read)
        return {
            "queued": int(size),
            "waiting": max(0, int(size) - upto),
            "admitted_places": min(upto, int(size)),
            "admitted": int(admitted),
            "served": int(served or 0),
            "per_minute": round(rate * 60),
            "service_ms": round(float(service_ms or 0)),
            "paused": paused,
        }

    def _call(self, fn):
        try:
            return fn(self.client or _redis())
        except redis.RedisError as exc:
            raise RoomUnavailable(str(exc)) from exc


# --- which opening, tickets, passes ------------------------------------------------------


def openings() -> list[Opening]:
    """The town's periods with a waiting room (process cache: no query)."""
    return selectors.town_data().openings


def opening(period_id: int) -> Opening | None:
    return next((o for o in openings() if o.period_id == period_id), None)


MAX_EXTRA_MINUTES = 240  # staff extend a room by 4 hours at most


def _latest_end(o: Opening) -> datetime:
    return o.opens_at + timedelta(minutes=o.room_minutes + MAX_EXTRA_MINUTES)


def room_end(o: Opening, room: Room | None = None) -> datetime:
    extra = (room or Room(o)).extra_minutes()
    return o.opens_at + timedelta(minutes=o.room_minutes + extra)


def active_opening(service, now: datetime) -> Opening | None:
    """The opening whose room gates `service`'s bookings now, if any.
    Raises RoomUnavailable when the window may be extended and Redis is down."""
    for o in openings():
        if not o.concerns(service) or now < o.opens_at:
            continue
        if now < o.opens_at + timedelta(minutes=o.room_minutes):
            return o
        if now < _latest_end(o) and now < room_end(o):  # extended by staff
            return o
    return None


def new_ticket() -> str:
    return secrets.token_urlsafe(16)


def read_ticket(request, o: Opening) -> dict | None:
    raw = request.COOKIES.get(TICKET_COOKIE.format(pid=o.period_id))
    if not raw:
        return None
    try:
        data = signing.loads(raw, salt=_SALT_TICKET)
    except signing.BadSignature:
        return None
    if data.get("s") != connection.schema_name or data.get("p") != o.period_id:
        return None
    return data


def sign_ticket(o: Opening, ticket: str, household_id: int | None, session_hash: str) -> str:
    return signing.dumps(
        {
            "t": ticket,
            "h": household_id,
            "k": session_hash,
            "s": connection.schema_name,
            "p": o.period_id,
        },
        salt=_SALT_TICKET,
    )


def session_hash(request) -> str:
    """A hash of the session cookie: binds a pass to this browser's session."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    return hashlib.sha256(key.encode()).hexdigest()[:32] if key else ""


def issue_pass(o: Opening, household_id: int, admitted_ms: int, session: str) -> str:
    return signing.dumps(
        {
            "h": household_id,
            "s": connection.schema_name,
            "p": o.period_id,
            "k": session,
            "a": admitted_ms,
        },
        salt=_SALT_PASS,
    )


def pass_problem(request, o: Opening, household_id: int | None, now: datetime) -> str | None:
    """None when the request carries a valid pass for this household, session,
    town and opening; else why not (for logs and tests, never shown as is)."""
    raw = request.META.get(PASS_HEADER) or request.COOKIES.get(PASS_COOKIE.format(pid=o.period_id))
    if not raw:
        return "no pass"
    try:
        data = signing.loads(raw, salt=_SALT_PASS)
    except signing.BadSignature:
        return "forged pass"
    if (
        data.get("s") != connection.schema_name
        or data.get("p") != o.period_id
        or household_id is None
        or data.get("h") != household_id
        or not data.get("k")
        or data.get("k") != session_hash(request)
    ):
        return "pass of another household, session, town or opening"
    expires = data.get("a", 0) / 1000 + o.pass_minutes * 60
    if now.timestamp() >= expires:
        return "expired pass"
    return None


def wait_text(seconds: int | None) -> str:
    """« environ 3 minutes » (French, rounded up; never « 0 minute »)."""
    if seconds is None:
        return "inconnue pour l'instant (admissions en pause)"
    if seconds < 60:
        return "moins d'une minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"environ {minutes} minute{'s' if minutes > 1 else ''}"
    hours, rest = divmod(minutes, 60)
    return f"environ {hours} h {rest:02d}"


def now() -> datetime:
    return timezone.now()


def monotonic() -> float:
    return time.perf_counter()


# --- the gate of the booking writes -------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    status: int  # 429: no valid pass; 503: the room cannot be reached (fail closed)
    detail: str  # French
    queue_url: str


def gate(request, services, household_id: int | None, when: datetime | None = None):
    """(opening, None) when the booking write may go on (no room now for these
    services, or a valid pass), else (opening, Refusal). No database query."""

    when = when or now()
    for service in services:
        try:
            o = active_opening(service, when)
        except RoomUnavailable:
            o = _maybe_extended(service, when)
            if o is not None:
                return o, Refusal(
                    503, UNAVAILABLE, reverse("file-attente:queue", args=[o.period_id])
                )
        if o is None:
            continue
        if pass_problem(request, o, household_id, when) is None:
            return o, None
        return o, Refusal(
            429,
            "L'ouverture des réservations est très demandée : prenez votre place dans la "
            "file d'attente, vous pourrez réserver à votre tour.",
            reverse("file-attente:queue", args=[o.period_id]),
        )
    return None, None


def _maybe_extended(service, when: datetime) -> Opening | None:
    """Redis is down: an opening whose room may have been extended stays closed."""
    for o in openings():
        if o.concerns(service) and o.opens_at <= when < _latest_end(o):
            return o
    return None


UNAVAILABLE = (
    "La file d'attente de l'ouverture est momentanément indisponible : rien n'a été "
    "enregistré, réessayez dans quelques minutes."
)


def record_service(o: Opening | None, started: float) -> None:
    """A gated booking was answered: count it and feed the admission rate."""
    if o is None:
        return
    try:
        Room(o).served(monotonic() - started, now())
    except RoomUnavailable:
        pass  # the booking is done; the rate keeps its last value
