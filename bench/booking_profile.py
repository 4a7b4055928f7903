"""Where an accepted booking's time goes: cProfile of the HTTP submission
(whole Django stack, test client, warm) and of `book_days`, in-process.

    python bench/booking_profile.py [--requests 200] [--top 25]
                                    [--database guichet_bench_profile] [--keep]

Set-up: the opening rush's database (bench/opening_rush.py: Castres from its
YAML, every module on, a 5-day summer ALSH session, families with one
registered child and a signed-in session each). Each profiled request is a
different family booking the whole session (200: accepted), through routing,
sessions, authentication, CSRF, the API view and the booking service, on a
warm process (town lookup, the town's booking data and URL resolver cached).

Prints: the SQL statements of one request, wall time per request and the part
spent waiting for PostgreSQL (the query times Django records), then the
functions by cumulative and by own time. `uptime` before and after.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
sys.path.append(str(ROOT / "platform"))

import opening_rush as rush  # noqa: E402  (the rush's database set-up, same town)


def _body(info: dict, i: int) -> str:
    return json.dumps(
        {
            "service": "alsh-vacances",
            "changes": [
                {"child": info["children"][i], "activity": info["activity"], "day": d}
                | {"action": "book"}
                for d in info["days"]
            ],
        }
    )


def profile_http(info: dict, requests: int, top: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    url = f"/{info['slug']}/api/alsh/reservations/"
    client = Client(HTTP_HOST="127.0.0.1")  # one handler: middleware loaded once, as a worker

    def post(i: int):
        client.cookies["sessionid"] = info["sessions"][i]
        response = client.post(url, _body(info, i), content_type="application/json")
        assert response.status_code == 200, response.content[:300]

    post(0)  # warm: routing, the town's booking data, URL resolver, templates
    with CaptureQueriesContext(connection) as ctx:
        post(1)
    print(f"SQL statements of one accepted HTTP submission: {len(ctx.captured_queries)}")
    for n, q in enumerate(ctx.captured_queries, 1):
        print(f"  {n:2}. {' '.join(q['sql'].split())[:140]}")
    todo = range(2, 2 + requests)
    with CaptureQueriesContext(connection) as ctx:  # DB wait as Django records it
        started, cpu = time.perf_counter(), time.process_time()
        for i in todo:
            post(i)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    db = sum(float(q["time"]) for q in ctx.captured_queries)
    print(
        f"HTTP, {requests} accepted submissions in-process: {wall / requests * 1000:.2f} ms each "
        f"(wall), of which waiting for PostgreSQL {db / requests * 1000:.2f} ms "
        f"({len(ctx.captured_queries) / requests:.1f} statements each); "
        f"this process's CPU {cpu / requests * 1000:.2f} ms each (the load does not inflate it)"
    )
    profiler = cProfile.Profile()
    todo = range(2 + requests, 2 + 2 * requests)
    profiler.enable()
    for i in todo:
        post(i)
    profiler.disable()
    _print(profiler, top, f"HTTP submission x {requests}")


def profile_book_days(info: dict, calls: int, top: int) -> None:
    from django_tenants.utils import schema_context

    from booking.models import Activity
    from booking.services import book_days
    from families.models import Child

    days = [date.fromisoformat(d) for d in info["days"]]
    with schema_context(info["schema"]):
        activity = Activity.objects.select_related("service").get(pk=info["activity"])
        pool = [c.pk for c in Child.objects.exclude(bookings__isnull=False).order_by("-pk")]
        pool = pool[: calls * 2]
        started, cpu = time.perf_counter(), time.process_time()
        for pk in pool[:calls]:
            book_days(child=Child(pk=pk), activity=activity, days=days)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"book_days, {len(days)} days, {calls} calls: {wall / calls * 1000:.2f} ms each "
            f"(wall), this process's CPU {cpu / calls * 1000:.2f} ms each"
        )
        profiler = cProfile.Profile()
        profiler.enable()
        for pk in pool[calls:]:
            book_days(child=Child(pk=pk), activity=activity, days=days)
        profiler.disable()
    _print(profiler, top, f"book_days x {calls}")


# The request's parts, by the file or function their time is spent in.
PARTS = (
    r"routing.py|sessions/backends|auth/__init__|auth/middleware|csrf.py|otp"
    r"|booking/api.py|grid.py:\d+\(family_children|changes.py|services.py|selectors.py"
    r"|notifications/outbox.py|render_to_string|kombu|celery|redis|rest_framework/(views|request|response)"
)


def _print(profiler, top: int, title: str) -> None:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(PARTS, top)
    text = out.getvalue()
    print(f"--- cProfile, {title}, the request's parts (cumulative):")
    print(text[text.index("ncalls") :].rstrip() if "ncalls" in text else text)
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(top)
        text = out.getvalue()
        body = text[text.index("ncalls") :] if "ncalls" in text else text
        head = next((line for line in text.splitlines() if "function calls" in line), "")
        print(f"--- cProfile, {title}, by {order}: {head.strip()}")
        print(body.rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--database", default="guichet_bench_profile")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--redis",
        default="",
        help="REDIS_URL: shared cache and Celery broker, as in production (default: none, "
        "e-mails sent in the request)",
    )
    args = parser.parse_args()
    if args.redis:
        rush.use_redis(args.redis)
    print(f"uptime before: {rush.uptime()}")
    families = 2 * args.requests + 2
    try:
        info = rush.setup(args.database, families, families, 5)
        profile_http(info, args.requests, args.top)
        rush.reset(info)
        profile_book_days(info, args.requests, args.top)
        print(f"uptime after: {rush.uptime()}")
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            with rush.admin_connect() as c:
                c.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
