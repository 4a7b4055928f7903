"""Opening rush: N families book the same summer session at the same moment.

    python bench/opening_rush.py [--families 2500] [--places 300] [--days 5]
                                 [--concurrency 64] [--workers 4]
                                 [--signins 500] [--compare GIT_REF]
                                 [--waiting-room [--signing-in 0.5] ...]
                                 [--redis REDIS_URL]
                                 [--database guichet_bench_rush] [--json]

What it does (its own database, DATABASE_URL's server, database `--database`,
dropped and created again):
1. onboards Castres from tenant_configs/castres.yaml — a real town with ALL the
   modules on (periscolaire, alsh, petite_enfance, billing: checked) —, opens a
   5-day summer ALSH session with `--places` places a day, and creates N
   fictitious families (one child each, registered) with a signed-in session each;
2. serves the app with gunicorn on 127.0.0.1 (sync workers, persistent DB
   connections), then N virtual families POST their booking of the whole
   session to /castres/api/alsh/reservations/ at once (`--concurrency` open
   connections, keep-alive);
3. prints successful bookings/s, submissions/s, p50/p95/p99 latency, 5xx count
   and overbooked places (counted from the database: must be 0);
4. runs the same SQL transaction (5 × conditional UPDATE of the day's counter +
   INSERT of the booking, in one transaction) under pgbench as the ceiling, and
   prints the ratio (`--pgbench-seconds 0`: skipped).

Issue #19 additions:
- accepted submissions (200: the whole session booked, one transaction of
  UPDATE + INSERT per day) and refusals (409: a day full, nothing written) are
  counted apart, and the accepted ones are compared with pgbench running that
  same accepted-booking transaction;
- `--signins N`: before the rush, N of the families sign in for real through
  the sign-in page (GET for the CSRF token, POST of the password: Django's
  PBKDF2, the production hasher, 1,000,000 iterations), N at a time over
  `--concurrency` connections: sign-ins/s, per core, latency; plus the
  hasher's own speed in this process (hashes/s on one core);
- `--compare GIT_REF`: the same rush is served first by the code of GIT_REF
  (checked out in a temporary git worktree), then by the current code, on the
  same database reset in between, in the same run: the machine's load weighs
  on both;
- the load generator's own CPU time is printed (it shares the machine);
- the SQL statements of one accepted submission are listed (in-process, the
  API view called through Django's test client on the same database).

`--waiting-room`: the whole opening through the waiting room, households
signing in for real among them (bench/opening_waiting_room.py's docstring).

`--json` ends the output with one line `RESULT {...}` (the figures, for the
smoke test tests/test_load_smoke.py). The database is dropped at the end
unless `--keep`. Figures are copied to docs/benchmarks.md by hand (they depend
on the machine).
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
sys.path.append(str(ROOT / "platform"))
ALL_MODULES = {"periscolaire", "alsh", "petite_enfance", "billing"}


@functools.cache
def base_url() -> str:
    """DATABASE_URL, else the embedded server `make run` and `make test` use
    (never a guessed 127.0.0.1:5432)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from portal.embedded_db import embedded_database_url

    return embedded_database_url(Path(os.environ.get("EMBEDDED_PGDATA") or ROOT / ".pgdata"))


def database_url(db_name: str) -> str:
    """base_url() with another database name; every other setting kept (socket
    directory, port, options)."""
    parts = urllib.parse.urlsplit(base_url())
    return urllib.parse.urlunsplit(parts._replace(path="/" + db_name))


def _libpq_env(db_url: str) -> dict:
    """PGHOST/PGPORT/PGUSER/PGPASSWORD for command-line tools (pgbench)."""
    import environ

    d = environ.Env.db_url_config(db_url)
    options = d.get("OPTIONS") or {}
    pairs = {
        "PGHOST": options.get("host") or d.get("HOST"),
        "PGPORT": options.get("port") or d.get("PORT"),
        "PGUSER": d.get("USER"),
        "PGPASSWORD": d.get("PASSWORD"),
    }
    return {k: str(v) for k, v in pairs.items() if v}


REDIS = {"url": ""}  # --redis: the shared cache and Celery broker of production


def use_redis(url: str) -> None:
    """Serve (and set up) with Redis as the shared cache and the Celery broker,
    as in production: the e-mail of an accepted booking is queued for a worker
    (none runs: the messages wait in Redis) instead of sent inside the request."""
    REDIS["url"] = url


def server_env(db_url: str) -> dict:
    """The app's environment: DEBUG off, persistent connections, no broker
    unless use_redis()."""
    return {
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "DEBUG": "false",
        "LOG_LEVEL": "ERROR",
        "CONN_MAX_AGE": "60",
        "REDIS_URL": REDIS["url"],
        "CELERY_BROKER_URL": REDIS["url"],
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


def admin_connect():
    import psycopg

    return psycopg.connect(database_url("postgres"), autocommit=True)


def setup(db_name: str, families: int, places: int, ndays: int, *, passwords: int = 0) -> dict:
    """A fresh database with Castres onboarded from its YAML, then populate()."""
    os.environ.update(server_env(database_url(db_name)))
    import django

    django.setup()
    with admin_connect() as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{db_name}"')
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    from tenants.onboarding import onboard_files

    [result] = onboard_files([settings.TENANT_CONFIGS_DIR / "castres.yaml"])
    info = populate(result.commune, families, places, ndays, passwords=passwords)
    info["database_url"] = database_url(db_name)
    connection.close()
    return info


PASSWORD = "une rentrée au centre de loisirs"  # every bench family's password (bench only)


def populate(
    commune, families: int, places: int, ndays: int, *, ceiling: bool = True, passwords: int = 0
) -> dict:
    """In `commune` (which must have every module on): a summer ALSH session of
    `ndays` days two months ahead with `places` places a day, N families with
    one registered child and a signed-in session each, and (`ceiling`) the
    pgbench activity. Committed; returns what the rush needs."""
    missing = ALL_MODULES - set(commune.enabled_modules)
    if missing:
        raise SystemExit(f"{commune.slug} does not enable every module: {sorted(missing)} off")
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from accounts.models import User
    from booking.models import Activity, DaySlot, Registration
    from booking.rules import school_year_of
    from families.models import Adult, Child, Household

    today = timezone.localdate()
    first = today + timedelta(days=60 - today.weekday())  # a Monday two months ahead
    days = [first + timedelta(days=i) for i in range(ndays)]
    with tenant_context(commune):
        activity = Activity.objects.get(code="alsh-vacances--alsh-centre")
        DaySlot.objects.bulk_create(
            [DaySlot(activity=activity, day=d, capacity=places) for d in days]
        )
        ceiling_slots = []
        if ceiling:
            pg = Activity.objects.create(service=activity.service, name="pgbench", code="")
            ceiling_slots = [
                s.pk
                for s in DaySlot.objects.bulk_create(
                    [DaySlot(activity=pg, day=d, capacity=10**9) for d in days]
                )
            ]
        from django.contrib.auth.hashers import make_password

        # The first `passwords` families sign in for real (bench --signins): one
        # hash made once (same password, same salt: a valid PBKDF2 hash each).
        hashed = make_password(PASSWORD) if passwords else "!"
        users = User.objects.bulk_create(
            [
                User(
                    username=f"rush{i}",
                    email=f"rush{i}@example.org",
                    password=hashed if i < passwords else "!",
                    role="family",
                    is_active=True,
                )
                for i in range(families)
            ]
        )
        households = Household.objects.bulk_create(
            [Household(name=f"Famille R{i}") for i in range(families)]
        )
        adults = Adult.objects.bulk_create(
            [
                Adult(household=h, user=u, first_name="Parent", last_name=f"R{i}")
                for i, (h, u) in enumerate(zip(households, users, strict=True))
            ]
        )
        children = Child.objects.bulk_create(
            [
                Child(
                    household=h,
                    first_name="Enfant",
                    last_name=h.name[8:],
                    birth_date=date(2018, 5, 1),
                )
                for h in households
            ]
        )
        Child.guardians.through.objects.bulk_create(
            [
                Child.guardians.through(child_id=c.pk, adult_id=a.pk)
                for c, a in zip(children, adults, strict=True)
            ]
        )
        Registration.objects.bulk_create(
            [
                Registration(
                    child=c,
                    service=activity.service,
                    site=activity.site,
                    school_year=school_year_of(days[0]),
                    status="accepted",
                )
                for c in children
            ]
        )
        expire = timezone.now() + timedelta(days=1)
        store, sessions, keys = SessionStore(), [], []
        for u in users:
            key = secrets.token_hex(16)
            keys.append(key)
            data = {
                SESSION_KEY: str(u.pk),
                HASH_SESSION_KEY: u.get_session_auth_hash(),
                BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            }
            sessions.append(
                Session(session_key=key, session_data=store.encode(data), expire_date=expire)
            )
        Session.objects.bulk_create(sessions)
    return {
        "activity": activity.pk,
        "ceiling_slots": sorted(ceiling_slots),
        "children": [c.pk for c in children],
        "sessions": keys,
        "days": [d.isoformat() for d in days],
        "schema": commune.schema_name,
        "slug": commune.slug,
        "modules": sorted(commune.enabled_modules),
    }


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(
    workers: int,
    port: int,
    *,
    db_url: str,
    town: str = "castres",
    start_timeout: float = 90,
    root: Path = ROOT,
) -> subprocess.Popen:
    """gunicorn (sync workers) on 127.0.0.1:port, once it answers for `town`;
    `root`: the source tree served (another commit's worktree for --compare)."""
    env = {**os.environ, **server_env(db_url), "PYTHONPATH": f"{root}:{root / 'platform'}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--worker-class",
            "sync",
            "--preload",  # as deploy/gunicorn.conf.py: workers forked from a loaded app
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
            "--timeout",
            "120",
        ],
        cwd=root,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + start_timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", f"/{town}/api/commune/")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise SystemExit("gunicorn did not start")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def rush(info: dict, port: int, concurrency: int) -> dict:
    csrf = secrets.token_hex(16)
    work = list(range(len(info["children"])))
    lock = threading.Lock()
    latencies, codes, statuses, last_ok = [], [], {}, [0.0]
    go = threading.Event()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        go.wait()
        while True:
            with lock:
                if not work:
                    break
                i = work.pop()
            body = json.dumps(
                {
                    "service": "alsh-vacances",
                    "changes": [
                        {
                            "child": info["children"][i],
                            "activity": info["activity"],
                            "day": d,
                            "action": "book",
                        }
                        for d in info["days"]
                    ],
                }
            )
            headers = {
                "Content-Type": "application/json",
                "X-CSRFToken": csrf,
                "Cookie": f"sessionid={info['sessions'][i]}; csrftoken={csrf}",
            }
            started = time.perf_counter()
            try:
                conn.request("POST", f"/{info['slug']}/api/alsh/reservations/", body, headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                status = 599
            finished = time.perf_counter()
            elapsed = finished - started
            with lock:
                latencies.append(elapsed)
                codes.append(status)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    last_ok[0] = max(last_ok[0], finished)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    go.set()
    for t in threads:
        t.join()
    return {
        "seconds": time.perf_counter() - started,
        "latencies": latencies,
        "codes": codes,
        "statuses": statuses,
        "sellout": (last_ok[0] - started) if last_ok[0] else None,
    }


def signin_storm(info: dict, port: int, concurrency: int, n: int) -> dict:
    """The first `n` families sign in for real, `concurrency` at a time: POST
    of the sign-in form (the password checked by the production hasher). Each
    family's new session replaces the one written by populate()."""
    csrf = secrets.token_hex(16)
    work = list(range(n))
    lock = threading.Lock()
    latencies, statuses = [], {}
    path = f"/{info['slug']}/compte/connexion/"

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while True:
            with lock:
                if not work:
                    break
                i = work.pop()
            body = urllib.parse.urlencode(
                {"identifier": f"rush{i}", "password": PASSWORD, "csrfmiddlewaretoken": csrf}
            )
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={csrf}",
            }
            started = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                cookies = response.headers.get_all("Set-Cookie") or []
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                status, cookies = 599, []
            elapsed = time.perf_counter() - started
            session = next(
                (c.split(";")[0].split("=", 1)[1] for c in cookies if c.startswith("sessionid=")),
                None,
            )
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 302 and session:
                    info["sessions"][i] = session
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(min(concurrency, n))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    lat = [x * 1000 for x in latencies]
    signed = statuses.get(302, 0)
    return {
        "signins": n,
        "signed_in": signed,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": round(seconds, 2),
        "per_s": round(signed / seconds, 2),
        "per_s_per_core": round(signed / seconds / (os.cpu_count() or 1), 2),
        "p50_ms": round(pct(lat, 50), 1),
        "p95_ms": round(pct(lat, 95), 1),
    }


def hasher_speed(rounds: int = 3) -> float:
    """Password hashes a second on ONE core, in this process (production hasher)."""
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher()
    started = time.process_time()
    for _ in range(rounds):
        hasher.encode(PASSWORD, hasher.salt())
    return rounds / (time.process_time() - started)


def reset(info: dict) -> None:
    """Back to before the rush: no booking, counters at 0, no receipts or e-mails."""
    import psycopg

    schema = info["schema"]
    with psycopg.connect(info["database_url"], autocommit=True) as c:
        c.execute(
            f'DELETE FROM "{schema}".booking_booking WHERE slot_id IN '
            f'(SELECT id FROM "{schema}".booking_dayslot WHERE activity_id = %s)',
            [info["activity"]],
        )
        c.execute(
            f'UPDATE "{schema}".booking_dayslot SET booked = 0 WHERE activity_id = %s',
            [info["activity"]],
        )
        c.execute(f'DELETE FROM "{schema}".booking_changeset')
        c.execute(f'DELETE FROM "{schema}".notifications_outboxmessage')


def statements_of_one_submission(info: dict) -> list[str]:
    """The SQL of ONE accepted submission through the whole Django stack (test
    client, in this process), on a day slot of its own: what the server runs."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import schema_context

    from booking.models import DaySlot

    with schema_context(info["schema"]):
        slots = list(DaySlot.objects.filter(activity_id=info["activity"]).order_by("day"))
        for s in slots:
            s.capacity += 1
            s.save(update_fields=["capacity"])
    i = len(info["children"]) - 1
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = info["sessions"][i]
    body = json.dumps(
        {
            "service": "alsh-vacances",
            "changes": [
                {"child": info["children"][i], "activity": info["activity"], "day": d}
                | {"action": "book"}
                for d in info["days"]
            ],
        }
    )
    url = f"/{info['slug']}/api/alsh/reservations/"
    client.post(url, body, content_type="application/json")  # warm caches (town, rules)
    reset(info)
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(url, body, content_type="application/json")
    assert response.status_code == 200, response.content[:500]
    reset(info)
    with schema_context(info["schema"]):
        for s in slots:
            DaySlot.objects.filter(pk=s.pk).update(capacity=s.capacity - 1)
    connection.close()
    return [" ".join(q["sql"].split())[:140] for q in ctx.captured_queries]


def count_overbooked(info: dict) -> tuple[int, int, int]:
    import psycopg

    with psycopg.connect(info["database_url"]) as c:
        rows = c.execute(
            f"""
            SELECT s.id, s.capacity, s.booked,
                   (SELECT count(*) FROM "{info["schema"]}".booking_booking b
                     WHERE b.slot_id = s.id AND b.status = 'booked')
              FROM "{info["schema"]}".booking_dayslot s WHERE s.activity_id = %s""",
            [info["activity"]],
        ).fetchall()
    overbooked = sum(max(0, n - cap) for _, cap, _, n in rows)
    counter_drift = sum(abs(n - booked) for _, _, booked, n in rows)
    return overbooked, counter_drift, sum(n for *_, n in rows)


def pgbench(info: dict, concurrency: int, seconds: int, db_name: str) -> float:
    schema = info["schema"]
    children = info["children"]
    lines = [
        rf"\set idx random(0, {len(children) - 1})",
        rf"\set child {children[0]} + :idx",
        "BEGIN;",
    ]
    for slot in info["ceiling_slots"]:
        lines.append(
            f"UPDATE {schema}.booking_dayslot SET booked = booked + 1 "
            f"WHERE id = {slot} AND booked < capacity;"
        )
        lines.append(
            f"INSERT INTO {schema}.booking_booking (slot_id, child_id, status, from_waiting_list, "
            "created_at, cancelled_late, attendance) VALUES "
            f"({slot}, :child, 'booked', false, now(), false, 'pending') "
            "ON CONFLICT (slot_id, child_id) WHERE status = 'booked' DO NOTHING;"
        )
    lines.append("COMMIT;")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    out = subprocess.run(
        [
            "pgbench",
            "-n",
            "-c",
            str(concurrency),
            "-j",
            "2",
            "-T",
            str(seconds),
            "-f",
            f.name,
            db_name,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **_libpq_env(database_url(db_name))},
    )
    os.unlink(f.name)
    return float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", type=int, default=2500)
    parser.add_argument("--places", type=int, default=300)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--pgbench-seconds", type=int, default=10, help="0: no pgbench")
    parser.add_argument("--database", default="guichet_bench_rush")
    parser.add_argument("--signins", type=int, default=0, help="families signing in for real")
    parser.add_argument(
        "--compare",
        metavar="GIT_REF[,GIT_REF]",
        help="serve these commits' code too, first (in the order given), in the same run",
    )
    wr = parser.add_argument_group("the whole opening (bench/opening_waiting_room.py)")
    wr.add_argument("--waiting-room", action="store_true", help="queue, sign in, admission, book")
    wr.add_argument("--signing-in", type=float, default=0.5, help="share signing in for real")
    wr.add_argument("--arrival-window", type=float, default=10.0, help="seconds, around opening")
    wr.add_argument("--poll", type=float, default=5.0, help="poll interval if a page gives none")
    wr.add_argument("--connections", type=int, default=256, help="client sockets at most")
    wr.add_argument("--lead", type=float, default=45.0, help="opening, seconds after set-up")
    wr.add_argument("--admit-per-minute", type=int, default=6000, help="the period's cap")
    wr.add_argument("--redis-url", default="", help="default: a redis-server of its own")
    wr.add_argument("--household-timeout", type=float, default=3600, help="seconds per household")
    parser.add_argument("--json", action="store_true", help="end with a line RESULT {...}")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--redis",
        default="",
        metavar="REDIS_URL",
        help="shared cache and Celery broker, as in production (default: none: the "
        "e-mail of each accepted booking is sent inside its request)",
    )
    args = parser.parse_args()
    if args.redis:
        use_redis(args.redis)
    port = args.port or free_port()
    try:
        if args.waiting_room:
            sys.path.insert(0, str(ROOT / "bench"))
            import opening_waiting_room

            result = opening_waiting_room.main(sys.modules[__name__], args, port)
            if args.json:
                print("RESULT " + json.dumps(result))
            return
        measure(args, port)
    finally:
        if not args.keep:
            with admin_connect() as c:
                c.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


def measure(args, port: int) -> None:
    t0 = time.perf_counter()
    print(f"uptime before: {uptime()}")
    info = setup(args.database, args.families, args.places, args.days, passwords=args.signins)
    print(
        f"setup: {args.families} families, {args.days} days x {args.places} places; "
        f"Castres with modules {', '.join(info['modules'])} ({time.perf_counter() - t0:.1f} s)"
    )
    statements = statements_of_one_submission(info)
    print(f"SQL of one accepted submission (current code, whole stack): {len(statements)}")
    for i, sql in enumerate(statements, 1):
        print(f"  {i:2}. {sql}")
    if args.signins:
        print(f"password hasher alone: {hasher_speed():.2f} hashes/s on one core")
    trees = [("current", ROOT)]
    old_trees = []
    for ref in [r for r in (args.compare or "").split(",") if r]:  # oldest first
        old_tree = Path(tempfile.mkdtemp(prefix="rush-old-")) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old_tree), ref],
            check=True,
            capture_output=True,
        )
        old_trees.append(old_tree)
        trees.insert(len(old_trees) - 1, (ref, old_tree))
    results = {}
    try:
        for label, root in trees:
            reset(info)
            print(f"--- serving {label} ({root}); uptime: {uptime()}")
            result = rush_and_count(
                info,
                workers=args.workers,
                port=port,
                concurrency=args.concurrency,
                root=root,
                signins=args.signins,
            )
            results[label] = result
            report(label, result, args)
    finally:
        for old_tree in old_trees:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_tree)],
                check=False,
                capture_output=True,
            )
    if args.pgbench_seconds:
        best = (0.0, 0)
        for clients in sorted({4, 8, 16, args.concurrency}):
            tps = pgbench(info, clients, args.pgbench_seconds, args.database)
            print(f"pgbench, same accepted-booking transaction, {clients} clients: {tps:.1f} tx/s")
            best = max(best, (tps, clients))
        tps, clients = best
        print(
            f"pgbench best: {tps:.1f} transactions/s at {clients} clients "
            f"= {tps * args.days:.1f} bookings/s"
        )
        for label, result in results.items():
            print(
                f"{label}: accepted submissions/s {result['accepted_per_s']:.1f} = "
                f"{result['accepted_per_s'] / tps:.1%} of pgbench's best "
                f"(all submissions incl. refusals: {result['submissions_per_s'] / tps:.1%})"
            )
            result["pgbench_tps"] = round(tps, 1)
            result["pgbench_clients"] = clients
    if len(results) >= 2:
        labels = list(results)
        print("side by side (same run, same database, same settings):")
        print(f"  {'':18} " + " ".join(f"{label[:12]:>12}" for label in labels))
        for key in (
            "accepted",
            "refused_full",
            "accepted_per_s",
            "submissions_per_s",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "accepted_p95_ms",
            "refused_p95_ms",
            "errors_5xx",
            "overbooked",
            "counter_drift",
            "client_cpu_s",
        ):
            print(f"  {key:18} " + " ".join(f"{results[k][key]!s:>12}" for k in labels))
        if all(r.get("signin") for r in results.values()):
            for key in ("per_s", "per_s_per_core", "p50_ms", "p95_ms"):
                print(
                    f"  signin {key:11} "
                    + " ".join(f"{results[k]['signin'][key]!s:>12}" for k in labels)
                )
        first = results[labels[0]]
        for label in labels[1:]:
            r = results[label]
            print(
                f"  {label} vs {labels[0]}: p95 {first['p95_ms'] / r['p95_ms']:.1f}x lower, "
                f"accepted/s {r['accepted_per_s'] / first['accepted_per_s']:.1f}x"
            )
    print(f"uptime after: {uptime()}")
    result = results["current"]
    result["statements"] = len(statements)
    if len(results) >= 2:
        result["compared"] = {k: v for k, v in results.items() if k != "current"}
    if args.json:
        print("RESULT " + json.dumps(result))
    if any(r["overbooked"] for r in results.values()):
        raise SystemExit("OVERBOOKED")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def report(label: str, result: dict, args) -> None:
    if result.get("signin"):
        st = result["signin"]
        print(
            f"[{label}] sign-in storm: {st['signed_in']}/{st['signins']} signed in "
            f"{st['statuses']} in {st['seconds']:.1f} s = {st['per_s']:.2f}/s "
            f"({st['per_s_per_core']:.2f}/s per core); p50 {st['p50_ms']:.0f} ms, "
            f"p95 {st['p95_ms']:.0f} ms"
        )
    print(
        f"[{label}] gunicorn: {args.workers} sync workers; {args.concurrency} concurrent "
        f"families; {result['seconds']:.2f} s; responses {result['statuses']}"
    )
    print(
        f"[{label}] accepted: {result['accepted']} submissions ({result['booked']} bookings) in "
        f"{result['sellout_s']:.2f} s until sold out = {result['accepted_per_s']:.1f} "
        f"accepted submissions/s; refused as full: {result['refused_full']}; all "
        f"submissions {result['submissions_per_s']:.1f}/s"
    )
    print(
        f"[{label}] latency ms: p50 {result['p50_ms']:.1f}  p95 {result['p95_ms']:.1f}  "
        f"p99 {result['p99_ms']:.1f}; accepted p95 {result['accepted_p95_ms']}, "
        f"refused p95 {result['refused_p95_ms']}"
    )
    print(
        f"[{label}] 5xx: {result['errors_5xx']}   overbooked places: {result['overbooked']}   "
        f"counter drift: {result['counter_drift']}   load generator CPU: "
        f"{result['client_cpu_s']} s"
    )


def rush_and_count(
    info: dict, *, workers: int, port: int, concurrency: int, root: Path = ROOT, signins: int = 0
) -> dict:
    """Serve, (sign-in storm), rush, stop; then the figures, with the
    invariants counted from the database (overbooked places, counter drift)."""
    server = serve(workers, port, db_url=info["database_url"], town=info["slug"], root=root)
    cpu0 = time.process_time()
    try:
        storm = signin_storm(info, port, concurrency, signins) if signins else None
        run = rush(info, port, concurrency)
    finally:
        stop(server)
    client_cpu = time.process_time() - cpu0
    overbooked, drift, booked = count_overbooked(info)
    lat = [x * 1000 for x in run["latencies"]]
    ok_lat = [x * 1000 for x, st in zip(run["latencies"], run["codes"], strict=True) if st == 200]
    no_lat = [x * 1000 for x, st in zip(run["latencies"], run["codes"], strict=True) if st == 409]
    sellout = run["sellout"] or run["seconds"]
    accepted = run["statuses"].get(200, 0)
    return {
        "root": str(root),
        "accepted": accepted,
        "refused_full": run["statuses"].get(409, 0),
        "accepted_per_s": round(accepted / sellout, 1),
        "accepted_p50_ms": round(pct(ok_lat, 50), 1) if ok_lat else None,
        "accepted_p95_ms": round(pct(ok_lat, 95), 1) if ok_lat else None,
        "refused_p50_ms": round(pct(no_lat, 50), 1) if no_lat else None,
        "refused_p95_ms": round(pct(no_lat, 95), 1) if no_lat else None,
        "client_cpu_s": round(client_cpu, 1),
        "signin": storm,
        "modules": info["modules"],
        "families": len(info["children"]),
        "days": len(info["days"]),
        "concurrency": concurrency,
        "workers": workers,
        "statuses": {str(k): v for k, v in sorted(run["statuses"].items())},
        "errors_5xx": sum(n for s, n in run["statuses"].items() if s >= 500),
        "overbooked": overbooked,
        "counter_drift": drift,
        "booked": booked,
        "seconds": round(run["seconds"], 2),
        "sellout_s": round(sellout, 2),
        "bookings_per_s": round(booked / sellout, 1),
        "submissions_per_s": round(len(lat) / run["seconds"], 1),
        "p50_ms": round(pct(lat, 50), 1),
        "p95_ms": round(pct(lat, 95), 1),
        "p99_ms": round(pct(lat, 99), 1),
        "mean_ms": round(statistics.mean(lat), 1),
        "load_average": os.getloadavg(),
    }


if __name__ == "__main__":
    main()
