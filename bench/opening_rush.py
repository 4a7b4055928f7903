"""Opening rush: N families book the same summer session at the same moment.

    python bench/opening_rush.py [--families 2500] [--places 300] [--days 5]
                                 [--concurrency 64] [--workers 4]

What it does (its own database, DATABASE_URL's server, database `guichet_bench_rush`):
1. onboards Castres from tenant_configs/castres.yaml, opens a 5-day summer ALSH
   session with `--places` places a day, and creates N fictitious families
   (one child each, registered) with a signed-in session each;
2. serves the app with gunicorn on 127.0.0.1 (sync workers, persistent DB
   connections), then N virtual families POST their booking of the whole
   session to /castres/api/alsh/reservations/ at once (`--concurrency` open
   connections, keep-alive);
3. prints successful bookings/s, submissions/s, p50/p95/p99 latency, 5xx count
   and overbooked places (counted from the database: must be 0);
4. runs the same SQL transaction (5 × conditional UPDATE of the day's counter +
   INSERT of the booking, in one transaction) under pgbench as the ceiling, and
   prints the ratio.

Figures are appended to docs/benchmarks.md by hand (they depend on the machine).
"""
from __future__ import annotations

import argparse
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
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
sys.path.append(str(ROOT / "platform"))
DB_NAME = "guichet_bench_rush"
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x")
DATABASE_URL = BASE_URL.rsplit("/", 1)[0] + "/" + DB_NAME
SERVER_ENV = {
    "DATABASE_URL": DATABASE_URL, "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
    "DEBUG": "false", "LOG_LEVEL": "ERROR", "CONN_MAX_AGE": "60", "REDIS_URL": "",
    "CELERY_BROKER_URL": "", "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
}
os.environ.update(SERVER_ENV)


def setup(families: int, places: int, ndays: int) -> dict:
    import django

    django.setup()
    import psycopg

    with psycopg.connect(BASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{DB_NAME}"')
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    from tenants.onboarding import onboard_files

    [result] = onboard_files([settings.TENANT_CONFIGS_DIR / "castres.yaml"])
    commune = result.commune
    from accounts.models import User
    from booking.models import Activity, DaySlot, Registration
    from booking.rules import school_year_of
    from families.models import Adult, Child, Household

    today = timezone.localdate()
    first = today + timedelta(days=60 - today.weekday())  # a Monday two months ahead
    days = [first + timedelta(days=i) for i in range(ndays)]
    with tenant_context(commune):
        activity = Activity.objects.get(code="alsh-vacances--alsh-centre")
        DaySlot.objects.bulk_create([DaySlot(activity=activity, day=d, capacity=places) for d in days])
        ceiling = Activity.objects.create(service=activity.service, name="pgbench", code="")
        DaySlot.objects.bulk_create([DaySlot(activity=ceiling, day=d, capacity=10**9) for d in days])
        users = User.objects.bulk_create([
            User(username=f"rush{i}", email=f"rush{i}@example.org", password="!", role="family")
            for i in range(families)])
        households = Household.objects.bulk_create([Household(name=f"Famille R{i}") for i in range(families)])
        adults = Adult.objects.bulk_create([
            Adult(household=h, user=u, first_name="Parent", last_name=f"R{i}")
            for i, (h, u) in enumerate(zip(households, users, strict=True))])
        children = Child.objects.bulk_create([
            Child(household=h, first_name="Enfant", last_name=h.name[8:], birth_date=date(2018, 5, 1))
            for h in households])
        Child.guardians.through.objects.bulk_create([
            Child.guardians.through(child_id=c.pk, adult_id=a.pk)
            for c, a in zip(children, adults, strict=True)])
        Registration.objects.bulk_create([
            Registration(child=c, service=activity.service, site=activity.site,
                         school_year=school_year_of(days[0]), status="accepted") for c in children])
        expire = timezone.now() + timedelta(days=1)
        store, sessions, keys = SessionStore(), [], []
        for u in users:
            key = secrets.token_hex(16)
            keys.append(key)
            data = {SESSION_KEY: str(u.pk), BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                    HASH_SESSION_KEY: u.get_session_auth_hash()}
            sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        Session.objects.bulk_create(sessions)
        info = {"activity": activity.pk, "ceiling_slots": list(
            DaySlot.objects.filter(activity=ceiling).order_by("day").values_list("pk", flat=True)),
            "children": [c.pk for c in children], "sessions": keys,
            "days": [d.isoformat() for d in days], "schema": commune.schema_name}
    connection.close()
    return info


def serve(workers: int, port: int) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV, "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "-b", f"127.0.0.1:{port}",
         "-w", str(workers), "--worker-class", "sync", "--keep-alive", "30",
         "--log-level", "warning", "--timeout", "120"],
        cwd=ROOT, env=env, start_new_session=True)
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/castres/api/commune/")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def rush(info: dict, port: int, concurrency: int) -> dict:
    csrf = secrets.token_hex(16)
    work = list(range(len(info["children"])))
    lock = threading.Lock()
    latencies, statuses, last_ok = [], {}, [0.0]
    go = threading.Event()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        go.wait()
        while True:
            with lock:
                if not work:
                    break
                i = work.pop()
            body = json.dumps({"service": "alsh-vacances", "changes": [
                {"child": info["children"][i], "activity": info["activity"], "day": d,
                 "action": "book"} for d in info["days"]]})
            headers = {"Content-Type": "application/json", "X-CSRFToken": csrf,
                       "Cookie": f"sessionid={info['sessions'][i]}; csrftoken={csrf}"}
            started = time.perf_counter()
            try:
                conn.request("POST", "/castres/api/alsh/reservations/", body, headers)
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
    return {"seconds": time.perf_counter() - started, "latencies": latencies, "statuses": statuses,
            "sellout": (last_ok[0] - started) if last_ok[0] else None}


def count_overbooked(info: dict) -> tuple[int, int, int]:
    import psycopg

    with psycopg.connect(DATABASE_URL) as c:
        rows = c.execute(f"""
            SELECT s.id, s.capacity, s.booked,
                   (SELECT count(*) FROM "{info['schema']}".booking_booking b
                     WHERE b.slot_id = s.id AND b.status = 'booked')
              FROM "{info['schema']}".booking_dayslot s WHERE s.activity_id = %s""",
                         [info["activity"]]).fetchall()
    overbooked = sum(max(0, n - cap) for _, cap, _, n in rows)
    counter_drift = sum(abs(n - booked) for _, _, booked, n in rows)
    return overbooked, counter_drift, sum(n for *_, n in rows)


def pgbench(info: dict, concurrency: int, seconds: int) -> float:
    schema = info["schema"]
    children = info["children"]
    lines = [rf"\set idx random(0, {len(children) - 1})", rf"\set child {children[0]} + :idx",
             "BEGIN;"]
    for slot in info["ceiling_slots"]:
        lines.append(f"UPDATE {schema}.booking_dayslot SET booked = booked + 1 "
                     f"WHERE id = {slot} AND booked < capacity;")
        lines.append(
            f"INSERT INTO {schema}.booking_booking (slot_id, child_id, status, from_waiting_list, "
            "created_at, cancelled_late, attendance) VALUES "
            f"({slot}, :child, 'booked', false, now(), false, 'pending') "
            "ON CONFLICT (slot_id, child_id) WHERE status = 'booked' DO NOTHING;")
    lines.append("COMMIT;")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    host = re.search(r"@([^:/]+)", BASE_URL).group(1)
    out = subprocess.run(
        ["pgbench", "-h", host, "-U", "postgres", "-n", "-c", str(concurrency), "-j", "2",
         "-T", str(seconds), "-f", f.name, DB_NAME], capture_output=True, text=True, check=True)
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
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    args = parser.parse_args()

    t0 = time.perf_counter()
    info = setup(args.families, args.places, args.days)
    print(f"setup: {args.families} families, {args.days} days x {args.places} places "
          f"({time.perf_counter() - t0:.1f} s)")
    server = serve(args.workers, args.port)
    try:
        run = rush(info, args.port, args.concurrency)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    overbooked, drift, booked = count_overbooked(info)
    lat = [x * 1000 for x in run["latencies"]]
    errors_5xx = sum(n for s, n in run["statuses"].items() if s >= 500)
    print(f"gunicorn: {args.workers} sync workers; {args.concurrency} concurrent families; "
          f"{run['seconds']:.2f} s")
    print(f"responses: {dict(sorted(run['statuses'].items()))}")
    sellout = run["sellout"] or run["seconds"]
    print(f"successful bookings: {booked} in {sellout:.2f} s until sold out "
          f"({booked / sellout:.1f} bookings/s); submissions: {len(lat) / run['seconds']:.1f}/s "
          "(accepted or refused as full)")
    print(f"latency ms: p50 {pct(lat, 50):.1f}  p95 {pct(lat, 95):.1f}  p99 {pct(lat, 99):.1f}  "
          f"mean {statistics.mean(lat):.1f}")
    print(f"5xx: {errors_5xx}   overbooked places: {overbooked}   counter drift: {drift}")
    tps = pgbench(info, args.concurrency, args.pgbench_seconds)
    app_tps = len(lat) / run["seconds"]
    print(f"pgbench ceiling (same transaction, {args.days} days, {args.concurrency} clients): "
          f"{tps:.1f} transactions/s = {tps * args.days:.1f} bookings/s")
    print(f"ratio app/pgbench: submissions {app_tps / tps:.2%}; "
          f"successful bookings/s vs ceiling bookings/s {booked / sellout / (tps * args.days):.2%}")
    if overbooked:
        raise SystemExit("OVERBOOKED")


if __name__ == "__main__":
    main()
