"""The opening's waiting room (booking.waiting_room, issue #19) on the real
Redis: a fair draw, admission, passes that cannot be forged, skipped or
shared, the 429 of the booking API without a pass (nothing saved), the
status fragment without any database query, fail-closed without Redis."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings

from booking import waiting_room as wr
from booking.models import Booking, ReservationPeriod
from booking.tests.conftest import THU_18, login, other_family, register

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL absent")

OPENS = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)  # 08:30 in Paris
API = "/castres/api/periscolaire/reservations/"


@pytest.fixture(autouse=True)
def clean_redis():
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("guichet:wr:*"):
        client.delete(key)
    yield
    for key in client.scan_iter("guichet:wr:*"):
        client.delete(key)


def _opening(**over) -> wr.Opening:
    values = {
        "period_id": random.randrange(10**6, 10**9),
        "label": "Été",
        "opens_at": OPENS,
        "early_minutes": 15,
        "room_minutes": 60,
        "admit_per_minute": 600,
        "pass_minutes": 10,
        "service_ids": frozenset(),
    }
    return wr.Opening(**(values | over))


# --- the draw ----------------------------------------------------------------------------


def test_early_arrivals_get_uniform_places_whatever_their_arrival_order():
    """20 households arrive one after the other in the 15 minutes before the
    opening, 300 draws: the place of each arrival rank is uniform (chi-square
    of the 20 x 20 table of arrival rank -> place, fixed seed)."""
    rng = random.Random(19)
    n, draws = 20, 300
    table = [[0] * n for _ in range(n)]
    for _ in range(draws):
        room = wr.Room(_opening(), schema="test", rng=rng)  # seeded here; secrets in production
        tickets = []
        for arrival in range(n):
            at = OPENS - timedelta(minutes=15) + timedelta(seconds=40 * arrival)
            tickets.append(room.join(f"t{arrival}", 1000 + arrival, at).ticket)
        for arrival, ticket in enumerate(tickets):
            table[arrival][room.place(ticket, OPENS).rank] += 1
    expected = draws / n
    chi2 = sum((c - expected) ** 2 / expected for row in table for c in row)
    # (n-1)^2 = 361 degrees of freedom; 99.9th percentile ≈ 455.
    assert chi2 < 455, chi2
    # The first arrival is no better placed than the last, on average.
    mean_place = [sum(p * c for p, c in enumerate(row)) / draws for row in table]
    assert abs(mean_place[0] - mean_place[-1]) < 2.5, mean_place


def test_later_arrivals_queue_in_arrival_order_after_the_draw():
    room = wr.Room(_opening(), schema="test")
    early = [room.join(f"e{i}", 10 + i, OPENS - timedelta(minutes=5)) for i in range(3)]
    late = [room.join(f"l{i}", 20 + i, OPENS + timedelta(seconds=i)) for i in range(3)]
    assert all(p.drawn for p in early) and not any(p.drawn for p in late)
    ranks = [room.place(p.ticket, OPENS + timedelta(seconds=5)).rank for p in early + late]
    assert sorted(ranks[:3]) == [0, 1, 2] and ranks[3:] == [3, 4, 5]


def test_too_early_is_not_in_the_draw_not_signed_in_yet_is():
    """The room is reachable before sign-in: an early visitor who has not signed
    in yet is in the draw too, and keeps that place when signing in."""
    room = wr.Room(_opening(), schema="test")
    too_early = room.join("a", 1, OPENS - timedelta(minutes=16))
    anonymous = room.join("b", None, OPENS - timedelta(minutes=5))
    assert not too_early.drawn and anonymous.drawn
    signed = room.join("b", 2, OPENS + timedelta(minutes=2))  # signs in after the opening
    assert signed.ticket == "b" and signed.drawn and signed.rank == 0


def test_many_anonymous_tickets_gain_nothing_the_first_signed_in_is_the_place():
    """A household that collects tickets in private windows before the opening
    and signs in on each keeps the FIRST one it signed in with, not the best."""
    room = wr.Room(_opening(), schema="test", rng=random.Random(3))
    tickets = [room.join(f"tab{i}", None, OPENS - timedelta(minutes=4)) for i in range(10)]
    best = min(tickets, key=lambda p: p.rank)
    first = next(t for t in tickets if t.ticket != best.ticket)
    after = OPENS + timedelta(seconds=5)
    claimed = room.join(first.ticket, 77, after)
    for t in tickets:
        again = room.join(t.ticket, 77, after)
        assert again.ticket == first.ticket
    assert room.place(best.ticket, after) is None  # the others left the queue
    assert room.figures(after)["queued"] == 1 and claimed.ticket == first.ticket


def test_a_copied_ticket_of_another_household_is_not_its_place():
    room = wr.Room(_opening(), schema="test")
    mine = room.join("mine", 1, OPENS + timedelta(seconds=1))
    room.join("x", 2, OPENS + timedelta(seconds=2))
    copied = room.join("mine", 3, OPENS + timedelta(seconds=3))  # household 3, cookie copied
    assert copied.ticket != "mine" and copied.rank == 2
    assert room.join("mine", 1, OPENS + timedelta(seconds=4)).rank == mine.rank == 0


def test_one_place_per_household_and_reloading_keeps_it():
    room = wr.Room(_opening(), schema="test")
    first = room.join("phone", 7, OPENS + timedelta(seconds=1))
    room.join("other", 8, OPENS + timedelta(seconds=2))
    again = room.join("phone", 7, OPENS + timedelta(seconds=30))  # reload
    laptop = room.join("laptop", 7, OPENS + timedelta(seconds=40))  # the other parent
    assert again.ticket == laptop.ticket == "phone"
    assert again.rank == laptop.rank == first.rank == 0
    assert room.figures(OPENS + timedelta(seconds=41))["queued"] == 2


def test_a_household_keeps_the_first_place_it_claims():
    room = wr.Room(_opening(), schema="test")
    anonymous = room.join("anon", None, OPENS + timedelta(seconds=1))
    room.join("x", 5, OPENS + timedelta(seconds=2))
    parent2 = room.join("p2", 9, OPENS + timedelta(seconds=3))  # signed in on another device
    signed = room.join("anon", 9, OPENS + timedelta(seconds=4))  # then on the first one
    assert signed.ticket == "p2" and signed.rank == parent2.rank - 1 == 1
    assert room.place(anonymous.ticket, OPENS + timedelta(seconds=5)) is None  # one place only


# --- admission -----------------------------------------------------------------------------


def test_admission_follows_the_rate_and_stops_while_paused():
    o = _opening(admit_per_minute=60)  # 1 a second at most
    room = wr.Room(o, schema="test")
    tickets = [room.join(f"t{i}", i, OPENS + timedelta(milliseconds=i)).ticket for i in range(30)]
    assert room.advance(OPENS - timedelta(seconds=1))[0] == 0  # nobody before the opening
    room.set_paused(False, OPENS)
    assert room.advance(OPENS + timedelta(seconds=10))[0] == 10
    room.set_paused(True, OPENS + timedelta(seconds=10))
    assert room.advance(OPENS + timedelta(seconds=20))[0] == 10
    room.set_paused(False, OPENS + timedelta(seconds=20))
    assert room.advance(OPENS + timedelta(seconds=25))[0] == 15
    place = room.place(tickets[-1], OPENS + timedelta(seconds=25))
    assert not place.admitted and place.ahead == 29 - 15 and place.wait_seconds == 15
    # The measured service time lowers the rate below the cap (4 workers, 2 s each).
    slow = wr.Room(_opening(admit_per_minute=600), schema="test")
    assert slow.advance(OPENS)[1] == pytest.approx(10)  # the cap, 600 a minute
    for _ in range(60):
        slow.served(2.0, OPENS)
    assert slow.advance(OPENS + timedelta(seconds=1))[1] == pytest.approx(2.0, rel=0.2)


def test_admission_waits_while_the_admitted_are_not_served():
    """The window: at most `WAITING_ROOM_WINDOW` households admitted lately and
    not served yet; a booking served makes room; households admitted who never
    book stop counting after `WAITING_ROOM_RECENT_SECONDS`."""
    o = _opening(admit_per_minute=6000)
    room = wr.Room(o, schema="test")
    for i in range(100):
        room.join(f"t{i}", i, OPENS - timedelta(minutes=20))
    with override_settings(WAITING_ROOM_WINDOW=5, WAITING_ROOM_RECENT_SECONDS=30):
        assert room.advance(OPENS + timedelta(seconds=10))[0] == 5  # the rate alone: 100
        assert room.advance(OPENS + timedelta(seconds=12))[0] == 5  # nobody served
        room.served(0.05, OPENS + timedelta(seconds=12))
        room.served(0.05, OPENS + timedelta(seconds=12))
        assert room.advance(OPENS + timedelta(seconds=13))[0] == 7
        # Nobody books any more: the admitted stop counting 30 s after admission.
        assert room.advance(OPENS + timedelta(seconds=39))[0] == 7
        assert room.advance(OPENS + timedelta(seconds=44))[0] == 12
        # The pace households are told follows what was really admitted.
        assert room.advance(OPENS + timedelta(seconds=44))[1] < 1


def test_admission_never_runs_ahead_of_the_queue():
    """An opening nobody rushes: places are admitted as households come, and
    the idle time builds no credit beyond the queue."""
    room = wr.Room(_opening(admit_per_minute=60), schema="test")
    room.join("a", 1, OPENS + timedelta(minutes=5))
    assert room.advance(OPENS + timedelta(minutes=5))[0] == 1
    late = room.join("b", 2, OPENS + timedelta(minutes=6))
    assert late.admitted  # admitted at once, nobody before it


def test_pages_ask_again_sooner_as_their_turn_comes():
    rng = random.Random(1)
    room = wr.Room(_opening(admit_per_minute=60), schema="test")  # 1 a second
    for i in range(200):
        room.join(f"t{i}", i, OPENS - timedelta(minutes=20) + timedelta(seconds=i))
    when = OPENS + timedelta(seconds=1)
    near, far = room.place("t1", when), room.place("t199", when)
    assert near.ahead == 0 and wr.poll_seconds(near, 0, rng) == 2
    assert 25 <= wr.poll_seconds(far, 0, rng) <= 35  # 30 s ± 15 %
    # Before the opening, the time until it counts; a crowd's polls are spread.
    first = wr.Place("x", rank=0, drawn=True, admitted_upto=0, rate=10, paused=False)
    polls = {wr.poll_seconds(first, 20, rng) for _ in range(50)}
    assert min(polls) >= 8 and max(polls) <= 12 and len(polls) > 1


def test_a_restarted_worker_loses_nobody_everything_is_in_redis():
    o = _opening()
    place = wr.Room(o, schema="test").join("mine", 3, OPENS + timedelta(seconds=1))
    fresh = wr.Room(o, schema="test")  # a new process has nothing but Redis
    assert fresh.place("mine", OPENS + timedelta(seconds=2)).rank == place.rank


def test_french_wait_estimates():
    assert wr.wait_text(30) == "moins d'une minute"
    assert wr.wait_text(61) == "environ 2 minutes"
    assert wr.wait_text(3700) == "environ 1 h 02"
    assert wr.wait_text(None).startswith("inconnue")


# --- passes and the booking API ---------------------------------------------------------------


@pytest.fixture
def opening(meals, in_town):
    """Castres' school restaurant opens on 1 March 2027 at 08:30 with a waiting room."""
    with in_town(meals.commune):
        period = ReservationPeriod.objects.create(
            label="Cantine de mars",
            opens_at=OPENS,
            closes_at=OPENS + timedelta(days=30),
            waiting_room=True,
            admit_per_minute=60,
        )
        period.services.set([meals.service])
    meals.period = period
    return meals


def _post(client, fam, day=THU_18, child=None, **headers):
    body = {
        "service": fam.service.code,
        "changes": [
            {
                "child": (child or fam.children[0]).pk,
                "activity": fam.activity.pk,
                "day": day.isoformat(),
                "action": "book",
            }
        ],
    }
    return client.post(API, json.dumps(body), content_type="application/json", **headers)


def _booked(fam, in_town) -> int:
    with in_town(fam.commune):
        return Booking.objects.filter(slot__activity=fam.activity).count()


def test_posting_without_a_pass_during_the_window_is_429_and_saves_nothing(
    client, opening, in_town
):
    with time_machine.travel(OPENS + timedelta(minutes=1), tick=False):
        login(client, opening.commune, opening.user)
        response = _post(client, opening)
    assert response.status_code == 429
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert "file d'attente" in body["detail"]
    assert body["queue"].endswith(f"/castres/file-attente/{opening.period.pk}/")
    assert _booked(opening, in_town) == 0


def test_queue_then_pass_then_booking(client, opening, in_town):
    queue = f"/castres/file-attente/{opening.period.pk}/"
    with time_machine.travel(OPENS - timedelta(minutes=5), tick=False) as clock:
        login(client, opening.commune, opening.user)
        page = client.get(queue)
        assert page.status_code == 200
        assert "Vous participez au tirage au sort" in page.content.decode()
        clock.move_to(OPENS + timedelta(seconds=30))
        status = client.get(queue + "etat/")
        assert "C'est votre tour" in status.content.decode()
        assert f"guichet_passage_{opening.period.pk}" in status.cookies
        response = _post(client, opening)
        assert response.status_code == 200, response.content
        assert len(response.json()["booked"]) == 1
        assert _booked(opening, in_town) == 1
        # After the room's window, no pass is needed any more.
        client.cookies.pop(f"guichet_passage_{opening.period.pk}")
        clock.move_to(OPENS + timedelta(minutes=61))
        response = _post(client, opening, child=opening.children[1])
    assert response.status_code == 200


def test_a_pass_is_bound_to_its_household_session_and_lifetime(client, opening, in_town):
    queue = f"/castres/file-attente/{opening.period.pk}/"
    cookie = f"guichet_passage_{opening.period.pk}"
    with in_town(opening.commune):
        durand = other_family("Durand")
        register(durand.children, opening.service, opening.activity.site)
    with time_machine.travel(OPENS + timedelta(seconds=1), tick=False) as clock:
        login(client, opening.commune, opening.user)
        client.get(queue)
        clock.move_to(OPENS + timedelta(seconds=30))
        stolen = client.get(queue + "etat/").cookies[cookie].value
        clock.move_to(OPENS + timedelta(minutes=1))
        # Forged: altered, so its signature fails.
        assert _post(client, opening, HTTP_X_GUICHET_PASSAGE=stolen[:-2] + "xx").status_code == 429
        # Another household, even with the pass copied into its own session.
        other = type(client)()
        login(other, opening.commune, durand.user)
        other.cookies[cookie] = stolen
        assert _post(other, opening, child=durand.children[0]).status_code == 429
        # The same household in another session (another browser): bound to the session.
        again = type(client)()
        login(again, opening.commune, opening.user)
        again.cookies[cookie] = stolen
        assert _post(again, opening).status_code == 429
        # Expired: 10 minutes after the FIRST admission; reloading does not renew it.
        clock.move_to(OPENS + timedelta(minutes=9))
        client.get(queue + "etat/")
        clock.move_to(OPENS + timedelta(minutes=11))
        assert _post(client, opening).status_code == 429
    assert _booked(opening, in_town) == 0


def test_the_status_fragment_costs_no_database_query(
    client, opening, django_assert_num_queries, settings
):
    settings.TOWN_LOOKUP_TTL = 3600  # production caches the town (tests turn it off)
    queue = f"/castres/file-attente/{opening.period.pk}/"
    with time_machine.travel(OPENS - timedelta(minutes=2), tick=False) as clock:
        login(client, opening.commune, opening.user)
        client.get(queue)
        clock.move_to(OPENS + timedelta(seconds=30))
        client.get(queue + "etat/")  # the town is now in the routing cache
        with django_assert_num_queries(0):
            response = client.get(queue + "etat/")
    assert response.status_code == 200
    assert "C'est votre tour" in response.content.decode()


def test_anonymous_visitor_keeps_the_place_through_sign_in(client, opening):
    queue = f"/castres/file-attente/{opening.period.pk}/"
    with time_machine.travel(OPENS + timedelta(seconds=5), tick=False) as clock:
        page = client.get(queue).content.decode()
        assert "Me connecter" in page
        login(client, opening.commune, opening.user)
        clock.move_to(OPENS + timedelta(seconds=20))
        page = client.get(queue).content.decode()
        status = client.get(queue + "etat/")
    assert "Réserver maintenant" in status.content.decode()
    assert f"guichet_passage_{opening.period.pk}" in status.cookies


def test_a_household_keeps_its_place_through_a_real_sign_in_even_when_the_gate_says_wait(
    client, opening, settings
):
    """The room before signing in; the sign-in form (real password check)
    first answered « réessayez » by the sign-in gate, then accepted: the place
    taken anonymously is the household's, and it is admitted from it."""
    from django.test import Client

    from accounts import signin_gate

    settings.SIGNIN_GATE, settings.SIGNIN_GATE_CORES, settings.SIGNIN_GATE_BURST = True, 1, 1
    gate = __import__("redis").Redis.from_url(settings.REDIS_URL)
    gate.delete(signin_gate.KEY)
    queue = f"/castres/file-attente/{opening.period.pk}/"
    form = {"identifier": opening.user.username, "password": "mot-de-passe-de-test-assez-long"}
    others = [Client() for _ in range(3)]
    try:
        with time_machine.travel(OPENS + timedelta(seconds=1), tick=False) as clock:
            assert "Me connecter" in client.get(queue).content.decode()  # 1st, not signed in
            for other in others:
                clock.shift(timedelta(seconds=1))
                other.get(queue)
            # Four sign-ins wait before it (one core, 1 s a hash).
            gate.hset(signin_gate.KEY, mapping={"issued": "4", "upto": "0", "hash_s": "1.0"})
            gate.hset(signin_gate.KEY, "last", repr(time.time()))
            busy = client.post("/castres/compte/connexion/?next=" + queue, form)
            assert busy.status_code == 429 and "votre place est gardée" in busy.content.decode()
            assert signin_gate.TURN_COOKIE in busy.cookies  # its turn, kept
            clock.shift(timedelta(seconds=int(busy["Retry-After"])))
            signed = client.post("/castres/compte/connexion/?next=" + queue, form)
            assert signed.status_code == 302 and signed["Location"] == queue
            page = client.get(queue).content.decode()
            status = client.get(queue + "etat/")
    finally:
        gate.delete(signin_gate.KEY)
    assert "Me connecter" not in page
    assert "Réserver maintenant" in status.content.decode()  # the 1st place: admitted
    assert f"guichet_passage_{opening.period.pk}" in status.cookies


@pytest.mark.faults
def test_redis_down_the_room_fails_closed(client, opening, in_town, settings):
    """No Redis: the queue answers the French « réessayez » page (503) and the
    booking API without a pass still refuses: nothing is saved."""
    settings.WAITING_ROOM_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with time_machine.travel(OPENS + timedelta(minutes=1), tick=False):
        login(client, opening.commune, opening.user)
        page = client.get(f"/castres/file-attente/{opening.period.pk}/")
        response = _post(client, opening)
    assert page.status_code == 503
    assert "réessayez dans quelques minutes" in page.content.decode()
    assert response.status_code == 429
    assert _booked(opening, in_town) == 0
