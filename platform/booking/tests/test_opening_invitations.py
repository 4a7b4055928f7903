"""E-mail invitations to sign in before an opening (booking.invitations,
issue #19): sent once, through the outbox, to the account of each household
concerned, by the booking core's periodic job or `manage.py invite_opening`;
a session opened on the invitation is still valid when the room closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from booking import invitations
from booking.models import ReservationPeriod
from booking.tests.conftest import other_family, register
from notifications.models import OutboxMessage

OPENS = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)  # lundi 1er mars 2027 à 08:30, Paris


@pytest.fixture
def opening(meals, in_town):
    """Castres' school restaurant opens with a waiting room; the Martins and
    the Durands are registered to it, the Petits to nothing."""
    with in_town(meals.commune):
        period = ReservationPeriod.objects.create(
            label="Cantine de mars",
            opens_at=OPENS,
            closes_at=OPENS + timedelta(days=30),
            waiting_room=True,
        )
        period.services.set([meals.service])
        durand = other_family("Durand")
        register(durand.children, meals.service, meals.activity.site)
        other_family("Petit")
    meals.period = period
    return meals


def _outbox(fam, in_town):
    with in_town(fam.commune):
        return list(OutboxMessage.objects.filter(subject=invitations.SUBJECT).order_by("id"))


def test_invitations_go_once_to_each_household_concerned(
    opening, in_town, mailoutbox, django_capture_on_commit_callbacks
):
    with in_town(opening.commune):
        assert invitations.invite_due(OPENS - timedelta(hours=49)) == {}  # not yet
        with django_capture_on_commit_callbacks(execute=True):
            sent = invitations.invite_due(OPENS - timedelta(hours=47))
        assert sent == {opening.period.pk: 2}
        assert invitations.invite_due(OPENS - timedelta(hours=46)) == {}  # once
        opening.period.refresh_from_db()
        assert opening.period.invited_at == OPENS - timedelta(hours=47)
    rows = _outbox(opening, in_town)
    assert sorted(r.to[0] for r in rows) == ["claire.martin@example.org", "durand@example.org"]
    assert all(len(r.to) == 1 for r in rows)  # nobody sees another family's address
    assert sorted(m.to[0] for m in mailoutbox) == sorted(r.to[0] for r in rows)
    body = rows[0].body
    assert "Les réservations « Cantine de mars » ouvrent le lundi 1er mars 2027 à 08:30" in body
    assert "le lundi 1er mars 2027 à 08:15" in body  # the draw begins
    assert "votre connexion reste valable jusqu'après l'ouverture" in body
    assert f"/castres/file-attente/{opening.period.pk}/" in body
    assert "/castres/compte/connexion/" in body and "/castres/compte/mot-de-passe-oublie/" in body
    assert "{{" not in body and "&#x27;" not in body


def test_an_opening_past_or_without_a_room_is_not_announced(opening, in_town):
    with in_town(opening.commune):
        assert invitations.invite_due(OPENS + timedelta(minutes=1)) == {}
        ReservationPeriod.objects.filter(pk=opening.period.pk).update(waiting_room=False)
        assert invitations.invite(opening.period.pk) == 0
    assert _outbox(opening, in_town) == []


def test_the_periodic_job_and_its_task(opening, in_town):
    from booking.tasks import invite_to_openings_for_town
    from core.contributions import periodic_jobs

    [job] = [j for j in periodic_jobs() if j.name == "booking-opening-invitations"]
    assert job.task == invite_to_openings_for_town.name and job.module is None  # every town
    with time_machine.travel(OPENS - timedelta(hours=24), tick=False), in_town(opening.commune):
        assert invite_to_openings_for_town() == {opening.period.pk: 2}
        assert invite_to_openings_for_town() == {}


def test_the_command_sends_now_once_or_again(opening, in_town):
    out = StringIO()
    with time_machine.travel(OPENS - timedelta(days=10), tick=False):  # before it is due
        call_command("invite_opening", "castres", str(opening.period.pk), stdout=out)
        call_command("invite_opening", "castres", str(opening.period.pk), stdout=out)
        call_command("invite_opening", "castres", str(opening.period.pk), "--again", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines == [
        f"castres : période {opening.period.pk} : {n} invitation(s) mise(s) en file d'envoi"
        for n in (2, 0, 2)
    ]
    assert len(_outbox(opening, in_town)) == 4
    with pytest.raises(CommandError, match="Pas d'ouverture avec file d'attente"):
        call_command("invite_opening", "castres", "999999")
    with pytest.raises(CommandError, match="Commune inconnue"):
        call_command("invite_opening", "nulle-part", "--due")


def test_a_session_opened_on_the_invitation_lasts_through_the_opening(client, opening):
    """Signed in (the real form) when the invitation arrives, 48 hours before:
    still signed in at the end of the waiting room's hour, in the draw's
    window and after the opening."""
    assert invitations.session_outlives_the_opening(60)
    queue = f"/castres/file-attente/{opening.period.pk}/"
    with time_machine.travel(OPENS - timedelta(hours=48), tick=False) as clock:
        signed = client.post(
            "/castres/compte/connexion/",
            {"identifier": "martin", "password": "mot-de-passe-de-test-assez-long"},
        )
        assert signed.status_code == 302
        clock.move_to(OPENS - timedelta(minutes=10))
        page = client.get(queue).content.decode()
        assert "Vous participez au tirage au sort" in page  # signed in: in the draw
        clock.move_to(OPENS + timedelta(minutes=59))
        assert client.get("/castres/mon-espace/").status_code == 200
