"""The booking service against the SQL it issues: `book_days` for 5 days vs
the raw conditional UPDATE + INSERT, same database, same run, same concurrency.

    python bench/book_days_vs_sql.py [--clients 1,4,8] [--seconds 8] [--days 5]
                                     [--database guichet_bench_book_days] [--keep]

Set-up (its own database on DATABASE_URL's server, dropped and created again):
Castres onboarded from tenant_configs/castres.yaml (every module on), a 5-day
summer ALSH session two months ahead with room for everyone, and enough
children for every booking of the run (each booking is a new child: no
"already booked" shortcut on either side).

Then, for each client count N, two turns of `--seconds` each, on the same
5 day rows (the opening's contention: every transaction locks the same days):
- service: N processes, each with its own Django connection in the town's
  schema, call `booking.services.book_days(child=..., activity=..., days=5
  days)` in a loop (the family path: deadline rules checked, one transaction);
- raw SQL: N processes, each with its own psycopg connection (the same
  client-side binding as Django's), run in one transaction exactly the two
  statements `book_days` issues to write — its conditional UPDATE of the day
  counters and its INSERT of the bookings — captured from a real call
  (`connection.execute_wrapper`) with only the child id changed.
Prints calls/s of both, the ratio (issue #19's acceptance: service >= 50 % of
raw), the mean and p95 latency, the statements of one `book_days` call, and
`uptime` before and after. Counters are checked against the bookings after
each turn (0 drift). The database is dropped at the end unless `--keep`.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
sys.path.append(str(ROOT / "platform"))

import opening_rush as rush  # noqa: E402  (the rush's database set-up, same town)


def setup(db_name: str, ndays: int, children: int) -> dict:
    """Castres (every module on) with a session of `ndays` days, `children`
    unbooked children; returns ids and the captured write statements."""
    info = rush.setup(db_name, families=4, places=10**9, ndays=ndays)
    from django.db import connection
    from django_tenants.utils import schema_context

    from families.models import Child, Household

    with schema_context(info["schema"]):
        household = Household.objects.create(name="Famille du banc d'essai")
        made = Child.objects.bulk_create(
            [
                Child(
                    household=household,
                    first_name="Enfant",
                    last_name=f"B{i}",
                    birth_date=date(2018, 5, 1),
                )
                for i in range(children)
            ],
            batch_size=5000,
        )
    info["pool"] = [c.pk for c in made]
    info["capture"] = capture_writes(info)
    connection.close()
    return info


def capture_writes(info: dict) -> dict:
    """One real book_days call on a child of its own: every statement it runs,
    and the (sql, params) of its UPDATE and INSERT, to be replayed raw."""
    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    from booking.models import Activity, Booking, DaySlot
    from booking.services import book_days
    from families.models import Child

    days = [date.fromisoformat(d) for d in info["days"]]
    seen: list[tuple[str, object]] = []

    def wrapper(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)

    child_id = info["pool"].pop()
    with schema_context(info["schema"]):
        activity = Activity.objects.select_related("service").get(pk=info["activity"])
        child = Child.objects.get(pk=child_id)
        book_days(child=child, activity=activity, days=days)  # warm the town's cache
        Booking.objects.filter(child=child).delete()
        DaySlot.objects.filter(activity=activity).update(booked=0)
        with connection.execute_wrapper(wrapper), transaction.atomic():
            result = book_days(child=child, activity=activity, days=days)
            assert len(result.booked) == len(days), result
            transaction.set_rollback(True)
    update = next((s, p) for s, p in seen if "UPDATE" in s and "booking_dayslot" in s)
    insert = next((s, p) for s, p in seen if s.lstrip().startswith("INSERT INTO"))
    statements = [" ".join(s.split())[:150] for s, _ in seen]
    params = list(insert[1])
    width = len(params) // len(days)
    child_positions = [i for i, v in enumerate(params) if v == child_id and i % width == 1]
    assert len(child_positions) == len(days), (params, child_id)
    return {
        "statements": statements,
        "update": (update[0], list(update[1])),
        "insert": (insert[0], params, child_positions),
    }


def _service_worker(info, children, seconds, barrier, out):
    from django.db import connection
    from django_tenants.utils import schema_context

    from booking import selectors
    from booking.models import Activity
    from booking.services import book_days
    from families.models import Child

    days = [date.fromisoformat(d) for d in info["days"]]
    with schema_context(info["schema"]):
        activity = Activity.objects.select_related("service").get(pk=info["activity"])
        selectors.town_data()  # the town's periods and calendar: cached per process
        latencies = []
        barrier.wait()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and children:
            child = Child(pk=children.pop())
            t = time.perf_counter()
            result = book_days(child=child, activity=activity, days=days)
            latencies.append(time.perf_counter() - t)
            if len(result.booked) != len(days):
                raise SystemExit(f"book_days did not book every day: {result}")
    connection.close()
    out.put(latencies)


def _raw_worker(info, children, seconds, barrier, out):
    import psycopg

    update_sql, update_params = info["capture"]["update"]
    insert_sql, insert_params, positions = info["capture"]["insert"]
    latencies = []
    with psycopg.connect(
        info["database_url"], cursor_factory=psycopg.ClientCursor
    ) as conn:  # Django's binding
        conn.execute(f'SET search_path = "{info["schema"]}", public')
        conn.commit()
        barrier.wait()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and children:
            params = list(insert_params)
            child_id = children.pop()
            for i in positions:
                params[i] = child_id
            t = time.perf_counter()
            with conn.cursor() as cur:  # BEGIN (implicit), UPDATE, INSERT, COMMIT
                cur.execute(update_sql, update_params)
                taken = cur.fetchall()
                cur.execute(insert_sql, params)
                saved = cur.fetchall()
            conn.commit()
            latencies.append(time.perf_counter() - t)
            if len(taken) != len(positions) or len(saved) != len(positions):
                raise SystemExit("raw SQL did not book every day")
    out.put(latencies)


def turn(kind: str, info: dict, clients: int, seconds: float) -> dict:
    """`clients` processes of `kind` for `seconds`: calls/s and latencies."""
    from django.db import connections

    connections.close_all()  # never share a connection with a forked child
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(clients + 1), ctx.Queue()
    need = int(2500 * seconds) + 50  # children this turn may use, each once
    chunk, info["pool"] = info["pool"][:need], info["pool"][need:]
    per = len(chunk) // clients
    target = _service_worker if kind == "service" else _raw_worker
    procs = [
        ctx.Process(
            target=target,
            args=(info, chunk[i * per : (i + 1) * per], seconds, barrier, out),
        )
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    latencies = []
    for _ in procs:
        latencies.extend(out.get())
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"{kind} worker failed ({p.exitcode})")
    return {
        "calls": len(latencies),
        "per_s": len(latencies) / elapsed,
        "mean_ms": statistics.mean(latencies) * 1000,
        "p95_ms": rush.pct([x * 1000 for x in latencies], 95),
    }


def check_counters(info: dict) -> tuple[int, int]:
    overbooked, drift, booked = rush.count_overbooked(info)
    return drift, booked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="1,4,8", help="client counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--children", type=int, default=0, help="0: enough for the run")
    parser.add_argument("--database", default="guichet_bench_book_days")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--redis", default="", help="REDIS_URL: shared cache (default: in-process, as the rush)"
    )
    args = parser.parse_args()
    if args.redis:
        rush.use_redis(args.redis)
    levels = [int(x) for x in args.clients.split(",")]
    # Children used once each: room for ~2,500 calls/s per turn on each side.
    children = args.children or (int(2500 * args.seconds) + 50) * len(levels) * 2 + 10
    print(f"uptime before: {rush.uptime()}")
    t0 = time.perf_counter()
    try:
        info = setup(args.database, args.days, children)
        print(
            f"setup: Castres ({', '.join(info['modules'])}), {args.days} days, "
            f"{children} children ({time.perf_counter() - t0:.1f} s)"
        )
        from django.conf import settings

        print(f"shared cache: {settings.CACHES['default']['BACKEND']}")
        cap = info["capture"]
        print(f"statements of one book_days call ({args.days} days): {len(cap['statements'])}")
        for i, sql in enumerate(cap["statements"], 1):
            print(f"  {i}. {sql}")
        print("raw: the UPDATE and the INSERT above (child id changed), in BEGIN/COMMIT")
        rows = []
        for clients in levels:
            pair = {}
            for kind in ("raw", "service"):
                pair[kind] = turn(kind, info, clients, args.seconds)
                drift, booked = check_counters(info)
                if drift:
                    raise SystemExit(f"counter drift {drift} after {kind}")
                r = pair[kind]
                print(
                    f"{clients:3} clients  {kind:8} {r['per_s']:8.1f} calls/s "
                    f"({r['calls']} calls)  mean {r['mean_ms']:.2f} ms  p95 {r['p95_ms']:.2f} ms"
                    f"  [{booked} bookings in the database, 0 drift]  uptime: {rush.uptime()}"
                )
            ratio = pair["service"]["per_s"] / pair["raw"]["per_s"]
            rows.append((clients, pair, ratio))
            print(f"{clients:3} clients  service / raw = {ratio:.0%}")
        print("summary (calls/s: one call = the 5 days of one child, one transaction):")
        print("  clients |      raw | book_days | ratio")
        for clients, pair, ratio in rows:
            print(
                f"  {clients:7} | {pair['raw']['per_s']:8.1f} | {pair['service']['per_s']:9.1f}"
                f" | {ratio:5.0%}"
            )
        print(f"uptime after: {rush.uptime()}")
    finally:
        if not args.keep:
            with rush.admin_connect() as c:
                c.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
