"""One periodic job for every town, from ONE beat entry.

Why: a beat entry per town does not scale (35,000 communes would mean 35,000
schedule rows, all due at the same second). Instead beat runs
`core.tasks.dispatch_to_towns(task_name, window_seconds)`, which sends
`task_name` once per active town, each in the town's schema (tenant-schemas-
celery stamps the schema at send time) and each delayed by a countdown taken
from a hash of the town's slug: the load is spread evenly over the window and a
town runs at the same offset every time (its logs line up day after day).

    CELERY_BEAT_SCHEDULE["periscolaire-reminders"] = per_town_beat_entry(
        "modules.periscolaire.tasks.send_reminders", window_seconds=3600,
        schedule=crontab(hour=18, minute=0),
    )
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

DISPATCH_TASK = "core.tasks.dispatch_to_towns"


def spread_countdown(slug: str, window_seconds: int, *, salt: str = "") -> int:
    """Deterministic offset in [0, window_seconds) for a town (pure function).

    blake2b rather than hash(): Python salts str hashes per process, so the
    offset would change at every worker restart. The task name is the salt, so
    a town's different jobs do not all land on the same second.
    """
    if window_seconds <= 0:
        return 0
    digest = hashlib.blake2b(f"{salt}\0{slug}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % window_seconds


@dataclass(frozen=True)
class Dispatch:
    slug: str
    countdown: int


def plan_dispatch(
    slugs: Iterable[str], window_seconds: int, *, salt: str = ""
) -> Iterator[Dispatch]:
    """The (town, countdown) pairs a dispatch sends, in the order given (pure)."""
    for slug in slugs:
        yield Dispatch(slug, spread_countdown(slug, window_seconds, salt=salt))


def max_window_seconds(broker_transport_options: dict | None) -> int:
    """Longest safe window: Redis re-delivers a task not acknowledged within the
    visibility timeout (default one hour), and a task waiting for its countdown
    is not acknowledged. Keep a 10 % margin."""
    timeout = (broker_transport_options or {}).get("visibility_timeout", 3600)
    return int(timeout * 0.9)


def per_town_beat_entry(
    task_name: str,
    *,
    window_seconds: int,
    schedule,
    kwargs: dict | None = None,
    queue: str | None = None,
    module: str | None = None,
    town_filter: dict | None = None,
) -> dict:
    """A CELERY_BEAT_SCHEDULE entry that runs `task_name` in every active town
    (with `module` on, and matching `town_filter`: core.tasks.dispatch_to_towns)."""
    return {
        "task": DISPATCH_TASK,
        "schedule": schedule,
        "kwargs": {
            "task_name": task_name,
            "window_seconds": window_seconds,
            "task_kwargs": kwargs or {},
            "queue": queue,
            "module": module,
            "town_filter": town_filter or {},
        },
    }


def beat_entries(jobs) -> dict:
    """The beat schedule of the apps' periodic jobs (core.contributions.PeriodicJob,
    from each AppConfig's `periodic_jobs`): one entry per job, whatever the
    number of towns. portal.celery adds them to the app's schedule."""
    return {
        job.name: per_town_beat_entry(
            job.task,
            window_seconds=job.window_seconds,
            schedule=job.schedule,
            kwargs=job.kwargs,
            queue=job.queue,
            module=job.module,
            town_filter=job.town_filter,
        )
        for job in jobs
    }
