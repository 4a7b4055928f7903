"""The opening's waiting room in Chromium (real time, Django's live server, the
real Redis): a family signed in before the opening is in the draw; after the
opening, a family behind others sees its place and the estimated wait in
French; axe-core finds nothing; nothing scrolls sideways at 360 px.
Screenshots at 390x844 and 1280x800 (SHOTS_DIR, default test-artifacts/)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tests.browser.harness import new_page

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL absent")
SHOTS = Path(os.environ.get("SHOTS_DIR") or Path(__file__).parents[2] / "test-artifacts")


@pytest.fixture
def castres(live_town, django_db_blocker):
    from tenants.models import Commune

    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        commune = Commune.objects.get(slug="castres")
    yield commune
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"guichet:wr:{commune.schema_name}:*"):
        client.delete(key)
    with django_db_blocker.unblock(), tenant_context(commune):
        from accounts.models import User
        from booking.models import ReservationPeriod
        from families.models import Adult, Household

        ReservationPeriod.objects.filter(label__startswith="Navigateur").delete()
        Adult.objects.filter(last_name="Salle").delete()
        Household.objects.filter(name="Famille Salle").delete()
        User.objects.filter(username="salle").delete()
    connection.set_schema_to_public()


def _period(commune, label, opens_at, **kw):
    from booking.models import ReservationPeriod

    with tenant_context(commune):
        period = ReservationPeriod.objects.create(
            label=label,
            opens_at=opens_at,
            closes_at=opens_at + timedelta(days=30),
            waiting_room=True,
            **kw,
        )
    connection.set_schema_to_public()
    return period


def _signed_in(browser, live_town, blocker, commune, user, width, height):
    page = new_page(browser, width=width, height=height)
    client = Client()
    with blocker.unblock(), tenant_context(commune):
        client.force_login(user)
    connection.set_schema_to_public()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_town.url + "/castres/",
            }
        ]
    )
    return page


def _no_sideways_scroll(page):
    page.set_viewport_size({"width": 360, "height": 780})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_queue_before_and_after_the_opening(
    browser, castres, live_town, django_db_blocker, axe
):
    from django.utils import timezone

    from booking import waiting_room as wr
    from tests.factories import AdultFactory, HouseholdFactory, UserFactory

    SHOTS.mkdir(parents=True, exist_ok=True)
    now = timezone.now()
    with django_db_blocker.unblock():
        with tenant_context(castres):
            user = UserFactory(username="salle", email="salle@example.org")
            household = HouseholdFactory(name="Famille Salle")
            AdultFactory(household=household, user=user, last_name="Salle", email=user.email)
        connection.set_schema_to_public()
        soon = _period(castres, "Navigateur : été", now + timedelta(minutes=10))
        opened = _period(
            castres, "Navigateur : automne", now - timedelta(minutes=1), admit_per_minute=600
        )
    # 40 households arrived just before this one, after the opening; 32 of them are
    # admitted (the window: 8 x 4 workers) and none has booked yet.
    room = wr.Room(_opening_of(opened), schema=castres.schema_name)
    for i in range(40):
        room.join(f"devant-{i}", 90000 + i, now - timedelta(seconds=5) + timedelta(milliseconds=i))

    for width, height in ((390, 844), (1280, 800)):
        page = _signed_in(browser, live_town, django_db_blocker, castres, user, width, height)
        page.goto(f"{live_town.url}/castres/file-attente/{soon.pk}/")
        assert page.get_by_text("Vous participez au tirage au sort").is_visible()
        assert axe(page) == [], axe.format(axe(page))
        page.screenshot(path=str(SHOTS / f"waiting-room-draw-{width}x{height}.png"), full_page=True)

        page.goto(f"{live_town.url}/castres/file-attente/{opened.pk}/")
        assert page.get_by_text("Votre place dans la file").is_visible()
        assert page.get_by_text("Attente estimée").is_visible()
        assert axe(page) == [], axe.format(axe(page))
        page.screenshot(
            path=str(SHOTS / f"waiting-room-queue-{width}x{height}.png"), full_page=True
        )
        # htmx refreshes the place by itself, at the interval the server chose for
        # this place (9th in line: a few seconds; far back it would be 30 s).
        every = page.locator("#etat").get_attribute("hx-trigger")
        assert re.fullmatch(r"every \d+s", every) and int(every[6:-1]) <= 10, every
        with page.expect_response(lambda r: "/etat/" in r.url, timeout=12_000):
            pass
        assert page.get_by_text("Votre place dans la file").is_visible()
        _no_sideways_scroll(page)
        page.context.close()

        # Not signed in yet, after the opening: the place is kept but not shown
        # (collecting tickets gains nothing); signing in is the next step.
        page = new_page(browser, width=width, height=height)
        page.goto(f"{live_town.url}/castres/file-attente/{opened.pk}/")
        assert page.get_by_text("Votre place est gardée dans la file").is_visible()
        assert page.get_by_role("link", name="Me connecter").is_visible()
        assert not page.get_by_text("Votre place dans la file").is_visible()
        assert axe(page) == [], axe.format(axe(page))
        page.screenshot(
            path=str(SHOTS / f"waiting-room-anonymous-{width}x{height}.png"), full_page=True
        )
        _no_sideways_scroll(page)
        page.context.close()


def _opening_of(period):
    from booking.selectors import Opening

    return Opening(
        period_id=period.pk,
        label=period.label,
        opens_at=period.opens_at,
        early_minutes=period.early_minutes,
        room_minutes=period.room_minutes,
        admit_per_minute=period.admit_per_minute,
        pass_minutes=period.pass_minutes,
        service_ids=frozenset(),
    )
