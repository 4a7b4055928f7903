"""The waiting room's Redis stopped DURING the queue (issue #19, faults suite):
a private redis-server of the test's own (append-only file on, as production's
waiting-room Redis), households queued, one admitted with its pass; the server
is stopped: the queue page and its status fragment answer the French
fail-closed page (« réessayez dans quelques minutes », 503), the booking API
refuses every household without a pass (429: nobody can get one), and no
submission is saved in part. The pass signed before the fault is checked
without Redis: the admitted household books its whole submission. Redis
restarted from its file: every household finds its place again. The
machine's shared Redis is never touched."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from booking.models import Booking, DaySlot, ReservationPeriod
from booking.tests.conftest import DAYS, login, other_family, register

pytestmark = [
    pytest.mark.faults,
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server absent"),
]

OPENS = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)
API = "/castres/api/periscolaire/reservations/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """redis-server on a free port, its append-only file in a temp directory."""

    def __init__(self, directory):
        self.port, self.dir, self.proc = _free_port(), directory, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):  # bounded: 5 s
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server privé injoignable")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path, settings):
    server = PrivateRedis(tmp_path)
    server.start()
    settings.WAITING_ROOM_REDIS_URL = server.url
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def opening(meals, in_town):
    with in_town(meals.commune):
        period = ReservationPeriod.objects.create(
            label="Cantine de mars",
            opens_at=OPENS,
            closes_at=OPENS + timedelta(days=30),
            waiting_room=True,
            admit_per_minute=2,  # one household admitted in the first 30 s
        )
        period.services.set([meals.service])
        others = [other_family(name) for name in ("Durand", "Petit")]
        for o in others:
            register(o.children, meals.service, meals.activity.site)
    meals.period, meals.others = period, others
    return meals


def _state(fam, in_town):
    with in_town(fam.commune):
        return (
            Booking.objects.filter(slot__activity=fam.activity).count(),
            sum(DaySlot.objects.filter(activity=fam.activity).values_list("booked", flat=True)),
        )


def _book_all_days(client, fam, children=None):
    body = {
        "service": fam.service.code,
        "changes": [
            {"child": c.pk, "activity": fam.activity.pk, "day": d.isoformat(), "action": "book"}
            for c in children or fam.children
            for d in DAYS
        ],
    }
    return client.post(API, json.dumps(body), content_type="application/json")


def test_redis_stopped_during_the_queue_fails_closed_and_saves_nothing(
    client, opening, in_town, private_redis
):
    from django.test import Client

    queue = f"/castres/file-attente/{opening.period.pk}/"
    clients = [client, Client(), Client()]
    users = [opening.user, *(o.user for o in opening.others)]
    with time_machine.travel(OPENS + timedelta(seconds=1), tick=False) as clock:
        for c, user in zip(clients, users, strict=True):
            login(c, opening.commune, user)
            assert c.get(queue).status_code == 200
            clock.shift(timedelta(seconds=1))
        clock.move_to(OPENS + timedelta(seconds=40))
        status = client.get(queue + "etat/")
        assert "C'est votre tour" in status.content.decode()  # Martin, first, admitted
        ranks_before = [_rank(c, opening, in_town) for c in clients]
        assert ranks_before == [0, 1, 2]

        private_redis.stop()  # during the queue
        for c in clients:
            for url in (queue, queue + "etat/"):
                page = c.get(url)
                assert page.status_code == 503, url
                text = page.content.decode()
                assert "réessayez dans quelques minutes" in text
                assert "Traceback" not in text and "Redis" not in text
        # The others, without a pass (and no way to get one), are refused: nothing saved.
        for c, other in zip(clients[1:], opening.others, strict=True):
            refused = _book_all_days(c, opening, other.children)
            assert refused.status_code == 429, refused.content
            assert "file d'attente" in refused.json()["detail"]
        assert _state(opening, in_town) == (0, 0)
        # Martin's pass was signed before the fault: it is checked without Redis
        # (signature, household, session, lifetime), so the admitted household
        # finishes its booking, whole: all its days or none, never part of them.
        accepted = _book_all_days(client, opening)
        assert accepted.status_code == 200, accepted.content
        booked = len(opening.children) * len(DAYS)
        assert _state(opening, in_town) == (booked, booked)

        private_redis.start()  # from its append-only file
        clock.move_to(OPENS + timedelta(seconds=50))
        assert [_rank(c, opening, in_town) for c in clients] == ranks_before  # nobody lost a place
        assert "C'est votre tour" in client.get(queue + "etat/").content.decode()
        _book_all_days(client, opening)  # sent twice: nothing more is booked
    assert _state(opening, in_town) == (booked, booked)


def _rank(c, fam, in_town) -> int:
    """The household's place, read from its ticket cookie and the room's Redis."""
    from django.core import signing

    from booking import waiting_room as wr

    data = signing.loads(
        c.cookies[wr.TICKET_COOKIE.format(pid=fam.period.pk)].value,
        salt=wr._SALT_TICKET,
    )
    with in_town(fam.commune):
        return wr.Room(wr.opening(fam.period.pk)).place(data["t"], wr.now()).rank
