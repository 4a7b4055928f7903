"""The whole opening, through the waiting room (`bench/opening_rush.py --waiting-room`).

    python bench/opening_rush.py --waiting-room [--families 2500] [--places 300]
        [--days 5] [--workers 4] [--signing-in 0.5] [--arrival-window 10]
        [--poll 5] [--connections 256] [--json]

1. Castres onboarded in its own database (opening_rush.setup), a summer ALSH
   session of `--days` days with `--places` places a day, N households (one
   registered child each); `--signing-in` of them (half by default) have a
   password and NO session: they sign in for real (Django's PBKDF2, 1,000,000
   iterations, behind the sign-in gate, accounts.signin_gate), the others
   already have a signed-in session;
2. a reservation period with its waiting room opens `--lead` seconds after
   the set-up (draw of the 15 minutes before, admission at the measured rate,
   capped at `--admit-per-minute`), served by gunicorn (`--workers` sync
   workers, WAITING_ROOM_CONCURRENCY = workers) and a redis-server of the
   bench's own (`--redis-url` to use another; the room's keys and the sign-in
   gate's key are removed first);
3. the households arrive within `--arrival-window` seconds centred on the
   opening, each as a browser does: the queue page; (signing in: the sign-in
   form, again after « réessayez dans N secondes »; the queue page again); the
   status fragment when the page's own htmx interval says (chosen by the
   server from the place: 2 to 30 s; `--poll` only when a page gives none)
   until its pass comes; then ONE booking of the whole session with the pass;
4. reported: time to admission (from the later of arrival and opening), the
   booking latency of admitted households (accepted and refused as full
   apart), the queue page's and status fragment's latency, sign-ins (per
   second, per core, gate refusals), fairness (rank correlation between
   arrival and place among the households of the draw, and among the later
   ones), overbooked places and counter drift (from the database), 5xx,
   households left without an answer, households admitted or booked twice
   (from Redis and the database), and the load generator's own CPU.

The client is asyncio's streams (standard library, one process, one thread):
no third-party HTTP client is a dependency of the project (docs/decisions/
1900-bench-async-client.md). Each request opens its own connection
(gunicorn's sync workers close it after the answer, as they do for browsers).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import secrets
import statistics
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import timedelta

POLL_SECONDS = 5


# --- the set-up ----------------------------------------------------------------------


def open_period(commune, activity_id: int, *, lead: float, admit_per_minute: int) -> dict:
    """A reservation period of the session's service with its waiting room,
    opening `lead` seconds from now (committed; before gunicorn starts: the
    workers load the town's periods once)."""
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from booking.models import Activity, ReservationPeriod

    opens = timezone.now() + timedelta(seconds=lead)
    with tenant_context(commune):
        service = Activity.objects.get(pk=activity_id).service
        period = ReservationPeriod.objects.create(
            label="Été (banc d'essai de l'ouverture)",
            opens_at=opens,
            closes_at=opens + timedelta(days=60),
            waiting_room=True,
            early_minutes=15,
            room_minutes=60,
            admit_per_minute=admit_per_minute,
            pass_minutes=10,
        )
        period.services.set([service])
    return {"period": period.pk, "opens_at": opens.timestamp(), "service": service.code}


def households_of(info: dict) -> list[int]:
    """The household of each bench family (same order as info['children'])."""
    import psycopg

    with psycopg.connect(info["database_url"]) as c:
        rows = dict(
            c.execute(
                f'SELECT id, household_id FROM "{info["schema"]}".families_child '
                "WHERE id = ANY(%s)",
                [info["children"]],
            ).fetchall()
        )
    return [rows[c] for c in info["children"]]


def clean_redis(redis_url: str, schema: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"guichet:wr:{schema}:*"):
        client.delete(key)
    client.delete("guichet:signin-gate")


# --- the client ------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float


class Client:
    """HTTP/1.1 over asyncio streams, a new connection per request, at most
    `connections` at once (the bench's open sockets, not the households)."""

    def __init__(self, port: int, connections: int):
        self.port = port
        self.slots = asyncio.Semaphore(connections)

    async def request(
        self, method: str, path: str, jar: dict, body: bytes = b"", headers: dict | None = None
    ) -> Answer:
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            "Connection: close",
            f"Content-Length: {len(body)}",
        ]
        if jar:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in jar.items()))
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        async with self.slots:
            started = time.perf_counter()
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.port), 60
                )
                writer.write(raw)
                await writer.drain()
                data = await asyncio.wait_for(reader.read(), 180)
                writer.close()
            except (OSError, TimeoutError):
                return Answer(599, [], b"", time.perf_counter() - started)
            seconds = time.perf_counter() - started
        head, _, content = data.partition(b"\r\n\r\n")
        head_lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(head_lines[0].split()[1])
        except (IndexError, ValueError):
            return Answer(599, [], b"", seconds)
        pairs = [tuple(x.split(": ", 1)) for x in head_lines[1:] if ": " in x]
        for name, value in pairs:
            if name.lower() == "set-cookie":
                cookie, _, attributes = value.partition(";")
                key, _, val = cookie.partition("=")
                if "max-age=0" in attributes.lower() or not val.strip('"'):
                    jar.pop(key, None)
                else:
                    jar[key] = val
        return Answer(status, pairs, content, seconds)


@dataclass
class Household:
    index: int
    household_id: int
    arrives: float  # seconds after the opening (negative: before)
    signs_in: bool
    jar: dict = field(default_factory=dict)
    arrived_at: float = 0.0
    signed_in_at: float | None = None
    signin_tries: int = 0
    gate_waits: int = 0
    admitted_at: float | None = None
    booking_status: int | None = None
    booking_seconds: float | None = None
    problem: str = ""


@dataclass
class Figures:
    queue_page: list = field(default_factory=list)
    status: list = field(default_factory=list)
    signin: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)

    def count(self, kind: str, answer: Answer) -> None:
        key = f"{kind} {answer.status}"
        self.statuses[key] = self.statuses.get(key, 0) + 1


async def _household(h: Household, cl: Client, ctx: dict, fig: Figures) -> None:
    clock0, opens = ctx["clock0"], ctx["opens_mono"]
    await asyncio.sleep(max(0.0, opens + h.arrives - time.perf_counter()))
    h.arrived_at = time.perf_counter() - clock0
    queue, deadline = ctx["queue"], time.perf_counter() + ctx["timeout"]
    a = await cl.request("GET", queue, h.jar)
    fig.queue_page.append(a.seconds)
    fig.count("queue", a)
    if h.signs_in:
        form = urllib.parse.urlencode(
            {
                "identifier": f"rush{h.index}",
                "password": ctx["password"],
                "csrfmiddlewaretoken": ctx["csrf"],
            }
        ).encode()
        while time.perf_counter() < deadline:
            h.signin_tries += 1
            a = await cl.request(
                "POST",
                ctx["login"],
                h.jar,
                form,
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            fig.count("signin", a)
            if a.status == 302 and "sessionid" in h.jar:
                fig.signin.append(a.seconds)
                h.signed_in_at = time.perf_counter() - clock0
                break
            if a.status == 429:
                h.gate_waits += 1
                # Its turn is in a cookie: it comes back when told (an earlier
                # retry would change nothing), a little later as people do.
                wait = next((float(v) for k, v in a.headers if k.lower() == "retry-after"), 1.0)
                await asyncio.sleep(wait + 0.5 * random.random())  # noqa: S311 - jitter
                continue
            if a.status >= 500:
                await asyncio.sleep(1)
                continue
            h.problem = f"sign-in {a.status}"
            return
        else:
            h.problem = "sign-in timed out"
            return
        # The page again: the place becomes the household's.
        a = await cl.request("GET", queue, h.jar)
        fig.queue_page.append(a.seconds)
        fig.count("queue", a)
    pass_cookie = ctx["pass_cookie"]
    while pass_cookie not in h.jar:
        if time.perf_counter() > deadline:
            h.problem = "never admitted"
            return
        # When the page itself asks again (its htmx interval, set by the server).
        await asyncio.sleep(_poll_of(a, ctx["poll"]))
        a = await cl.request("GET", queue + "etat/", h.jar)
        fig.status.append(a.seconds)
        fig.count("status", a)
    h.admitted_at = time.perf_counter() - clock0
    a = await cl.request(
        "POST",
        ctx["api"],
        h.jar,
        ctx["bodies"][h.index],
        # Signing in rotates the CSRF cookie: the page's script sends the current one.
        {"Content-Type": "application/json", "X-CSRFToken": h.jar.get("csrftoken", ctx["csrf"])},
    )
    fig.count("booking", a)
    h.booking_status, h.booking_seconds = a.status, a.seconds


_EVERY = re.compile(rb'hx-trigger="every (\d+)s"')


def _poll_of(answer: Answer, default: float) -> float:
    """The interval the page's status block polls at (`hx-trigger="every Ns"`,
    chosen by the server for this place); `default` when the answer has none."""
    found = _EVERY.search(answer.body)
    return float(found.group(1)) if found else default


async def _run(households: list[Household], ctx: dict, connections: int) -> Figures:
    cl, fig = Client(ctx["port"], connections), Figures()
    await asyncio.gather(*(_household(h, cl, ctx, fig) for h in households))
    return fig


# --- the run -------------------------------------------------------------------------------


def waiting_room_rush(
    bench,
    info: dict,
    *,
    port: int,
    workers: int,
    redis_url: str,
    period: dict,
    signing_in: float,
    arrival_window: float,
    poll: float = POLL_SECONDS,
    connections: int = 256,
    timeout: float = 1800,
    seed: int = 19,
) -> dict:
    """Serve, let the households arrive around the opening, stop; then the
    figures, the invariants counted from Redis and the database."""
    n = len(info["children"])
    rng = random.Random(seed)
    ids = households_of(info)
    signers = set(rng.sample(range(n), round(n * signing_in)))
    households = [
        Household(
            index=i,
            household_id=ids[i],
            arrives=rng.uniform(-arrival_window / 2, arrival_window / 2),
            signs_in=i in signers,
        )
        for i in range(n)
    ]
    csrf = secrets.token_hex(16)
    for h in households:
        h.jar = {"csrftoken": csrf}
        if not h.signs_in:
            h.jar["sessionid"] = info["sessions"][h.index]
    slug, pid = info["slug"], period["period"]
    queue = f"/{slug}/file-attente/{pid}/"
    bodies = [
        json.dumps(
            {
                "service": period["service"],
                "changes": [
                    {"child": child, "activity": info["activity"], "day": d, "action": "book"}
                    for d in info["days"]
                ],
            }
        ).encode()
        for child in info["children"]
    ]
    clean_redis(redis_url, info["schema"])
    saved = {k: os.environ.get(k) for k in ("WAITING_ROOM_REDIS_URL", "WAITING_ROOM_CONCURRENCY")}
    os.environ.update(WAITING_ROOM_REDIS_URL=redis_url, WAITING_ROOM_CONCURRENCY=str(workers))
    try:  # gunicorn gets them; the calling process (a test) keeps its own environment
        server = bench.serve(workers, port, db_url=info["database_url"], town=slug)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    until_opening = period["opens_at"] - time.time()
    if until_opening < arrival_window / 2:
        bench.stop(server)
        raise SystemExit(f"the opening is {until_opening:.0f} s away: raise --lead")
    clock0 = time.perf_counter()
    ctx = {
        "clock0": clock0,
        "workers": workers,
        "opens_mono": clock0 + until_opening,
        "port": port,
        "queue": queue,
        "login": f"/{slug}/compte/connexion/?next={urllib.parse.quote(queue)}",
        "api": f"/{slug}/api/alsh/reservations/",
        "password": bench.PASSWORD,
        "csrf": csrf,
        "pass_cookie": f"guichet_passage_{pid}",
        "poll": poll,
        "bodies": bodies,
        "timeout": timeout,
    }
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        fig = asyncio.run(_run(households, ctx, connections))
    finally:
        bench.stop(server)
    client_cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return figures(bench, info, households, fig, ctx, redis_url, pid, client_cpu, wall)


def _ms(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": round(_pct(ms, 50), 1),
        "p95_ms": round(_pct(ms, 95), 1),
        "p99_ms": round(_pct(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _spearman(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3:
        return None

    def ranks(v):
        order = sorted(range(len(v)), key=v.__getitem__)
        r = [0] * len(v)
        for rank, i in enumerate(order):
            r[i] = rank
        return r

    rx, ry = ranks(xs), ranks(ys)
    return round(statistics.correlation(rx, ry), 3)


def figures(bench, info, households, fig, ctx, redis_url, pid, client_cpu, wall) -> dict:
    import psycopg
    import redis

    client = redis.Redis.from_url(redis_url)
    base = f"guichet:wr:{info['schema']}:{pid}"
    tickets = {int(k): v for k, v in client.hgetall(f"{base}:h").items()}
    scores = {h: client.zscore(f"{base}:q", t) for h, t in tickets.items()}
    ranks = {h: client.zrank(f"{base}:q", t) for h, t in tickets.items()}
    admitted = client.hlen(f"{base}:admitted")
    queued = client.zcard(f"{base}:q")
    state = {k.decode(): v.decode() for k, v in client.hgetall(f"{base}:state").items()}
    gate = {k.decode(): v.decode() for k, v in client.hgetall("guichet:signin-gate").items()}
    opens = ctx["opens_mono"] - ctx["clock0"]

    drawn = [h for h in households if scores.get(h.household_id) is not None]
    drawn = [h for h in drawn if scores[h.household_id] < 1]
    later = [h for h in households if h.household_id in ranks and h not in drawn]
    schema = info["schema"]
    with psycopg.connect(info["database_url"]) as c:
        per_child = c.execute(
            f'SELECT b.child_id, count(*) FROM "{schema}".booking_booking b '
            f'JOIN "{schema}".booking_dayslot s ON s.id = b.slot_id '
            "WHERE s.activity_id = %s AND b.status = 'booked' GROUP BY b.child_id",
            [info["activity"]],
        ).fetchall()
    days = len(info["days"])
    overbooked, drift, booked = bench.count_overbooked(info)
    admitted_h = [h for h in households if h.admitted_at is not None]
    to_admission = [h.admitted_at - max(h.arrived_at, opens) for h in admitted_h]
    ok = [h.booking_seconds for h in households if h.booking_status == 200]
    full = [h.booking_seconds for h in households if h.booking_status == 409]
    answered = sum(1 for h in households if h.booking_status in (200, 409))
    signed = [h for h in households if h.signed_in_at is not None]
    signin_span = (
        max(h.signed_in_at for h in signed) - min(h.arrived_at for h in households if h.signs_in)
        if signed
        else 0
    )
    statuses = dict(sorted(fig.statuses.items()))
    return {
        "households": len(households),
        "signing_in": sum(h.signs_in for h in households),
        "workers": ctx["workers"],
        "arrival_window_s": round(
            max(h.arrived_at for h in households) - min(h.arrived_at for h in households), 1
        ),
        "wall_s": round(wall, 1),
        "statuses": statuses,
        "errors_5xx": sum(n for k, n in statuses.items() if int(k.split()[-1]) >= 500),
        "answered": answered,
        "unanswered": len(households) - answered,
        "problems": _count(h.problem for h in households if h.problem),
        "accepted": len(ok),
        "refused_full": len(full),
        "booking_accepted": _ms(ok),
        "booking_refused_full": _ms(full),
        "booking_all_admitted": _ms(ok + full),
        "time_to_admission": _ms(to_admission),
        "last_admission_s": round(max((h.admitted_at for h in admitted_h), default=0) - opens, 1),
        "queue_page": _ms(fig.queue_page),
        "status_fragment": _ms(fig.status),
        "signin": {
            **_ms(fig.signin),
            "signed_in": len(signed),
            "per_s": round(len(signed) / signin_span, 2) if signin_span else None,
            "per_s_per_core": (
                round(len(signed) / signin_span / (os.cpu_count() or 1), 2) if signin_span else None
            ),
            "gate_refusals": sum(h.gate_waits for h in households),
            "gate_measured_hash_ms": round(float(gate.get("hash_s", 0)) * 1000, 1),
            "hashed": int(gate.get("checked", 0)),
        },
        "fairness": {
            "drawn": len(drawn),
            "drawn_arrival_vs_place_spearman": _spearman(
                [h.arrived_at for h in drawn], [ranks[h.household_id] for h in drawn]
            ),
            "later": len(later),
            "later_arrival_vs_place_spearman": _spearman(
                [h.arrived_at for h in later], [ranks[h.household_id] for h in later]
            ),
            "drawn_all_before_later": (
                max((ranks[h.household_id] for h in drawn), default=-1)
                < min((ranks[h.household_id] for h in later), default=10**9)
            ),
        },
        "room": {
            "queued": queued,
            "admitted": admitted,
            "served": int(state.get("served", 0)),
            "service_ms": round(float(state.get("service_ms", 0)), 1),
        },
        "admitted_twice": max(0, queued - len(tickets)) + sum(1 for _, n in per_child if n > days),
        "overbooked": overbooked,
        "counter_drift": drift,
        "booked": booked,
        "client_cpu_s": round(client_cpu, 1),
        "client_cpu_share": round(client_cpu / wall, 3) if wall else None,
        "load_average": os.getloadavg(),
    }


def _count(items) -> dict:
    out: dict = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out


def report(r: dict) -> None:
    def lat(d):
        if not d.get("n"):
            return "—"
        return (
            f"p50 {d['p50_ms']:.0f} ms, p95 {d['p95_ms']:.0f} ms, "
            f"p99 {d['p99_ms']:.0f} ms (n={d['n']})"
        )

    print(
        f"[waiting room] {r['households']} households ({r['signing_in']} signing in for real) "
        f"arriving over {r['arrival_window_s']} s around the opening; {r['workers']} gunicorn "
        f"workers; {r['wall_s']} s in all"
    )
    print(f"[waiting room] answers: {r['statuses']}")
    print(
        f"[waiting room] time to admission: {lat(r['time_to_admission'])}; last admitted "
        f"{r['last_admission_s']} s after the opening"
    )
    print(f"[waiting room] booking of admitted households, all: {lat(r['booking_all_admitted'])}")
    print(f"[waiting room]   accepted ({r['accepted']}): {lat(r['booking_accepted'])}")
    print(f"[waiting room]   full ({r['refused_full']}): {lat(r['booking_refused_full'])}")
    print(f"[waiting room] queue page: {lat(r['queue_page'])}")
    print(f"[waiting room] status fragment (polled): {lat(r['status_fragment'])}")
    s = r["signin"]
    print(
        f"[waiting room] sign-ins: {s['signed_in']} in {lat(s)}; {s['per_s']}/s = "
        f"{s['per_s_per_core']}/s per core; gate refusals {s['gate_refusals']} (no hash); "
        f"measured hash {s['gate_measured_hash_ms']} ms; hashes {s['hashed']}"
    )
    f = r["fairness"]
    print(
        f"[waiting room] fairness: {f['drawn']} drawn, arrival vs place Spearman "
        f"{f['drawn_arrival_vs_place_spearman']} (≈ 0: arriving first gains nothing); "
        f"{f['later']} later, Spearman {f['later_arrival_vs_place_spearman']} (≈ 1: arrival "
        f"order); draw before later arrivals: {f['drawn_all_before_later']}"
    )
    print(
        f"[waiting room] room: {r['room']}; answered {r['answered']}, unanswered "
        f"{r['unanswered']} {r['problems']}; admitted twice {r['admitted_twice']}"
    )
    print(
        f"[waiting room] 5xx: {r['errors_5xx']}   overbooked: {r['overbooked']}   counter drift: "
        f"{r['counter_drift']}   booked: {r['booked']}   load generator CPU: "
        f"{r['client_cpu_s']} s ({r['client_cpu_share']:.1%} of one core)"
    )


def private_redis(port: int):
    """A redis-server of the bench's own (free port, nothing saved): no other
    program's keys meet the room's or the sign-in gate's."""
    import subprocess

    import redis

    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):  # bounded: 5 s
        try:
            if redis.Redis.from_url(url).ping():
                return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the bench's redis-server did not start")


def main(bench, args, port: int) -> dict:
    import shutil

    print(f"uptime before: {bench.uptime()}")
    t0 = time.perf_counter()
    own = None
    if args.redis_url:
        redis_url = args.redis_url
    elif shutil.which("redis-server"):
        own, redis_url = private_redis(bench.free_port())
    else:
        redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        raise SystemExit("--waiting-room needs Redis: redis-server, --redis-url or REDIS_URL")
    try:
        return _main(bench, args, port, redis_url, t0)
    finally:
        if own is not None:
            own.kill()
            own.wait(timeout=10)


def _main(bench, args, port: int, redis_url: str, t0: float) -> dict:
    signers = round(args.families * args.signing_in)
    n = args.families
    info = bench.setup(args.database, n, args.places, args.days, passwords=n)
    from django.db import connection

    from tenants.models import Commune

    commune = Commune.objects.get(slug=info["slug"])
    lead = args.lead  # gunicorn starts within it
    period = open_period(
        commune, info["activity"], lead=lead, admit_per_minute=args.admit_per_minute
    )
    connection.close()
    print(
        f"setup: {args.families} households ({signers} will sign in), {args.days} days x "
        f"{args.places} places; opening in {lead:.0f} s ({time.perf_counter() - t0:.1f} s); "
        f"Redis {redis_url}"
    )
    r = waiting_room_rush(
        bench,
        info,
        port=port,
        workers=args.workers,
        redis_url=redis_url,
        period=period,
        signing_in=args.signing_in,
        arrival_window=args.arrival_window,
        poll=args.poll,
        connections=args.connections,
        timeout=args.household_timeout,
    )
    report(r)
    print(f"uptime after: {bench.uptime()}")
    return r
