"""E-mail invitations to sign in before an opening (issue #19, sign-in storms).

A town's opening with a waiting room brings thousands of parents at the same
minute, and each sign-in costs a deliberately slow password hash. So the
families concerned are invited, `INVITE_HOURS` before the opening, to sign in
early: a session opened then stays valid through the opening and its room
(SESSION_COOKIE_AGE, checked below), and a household signed in during the
`early_minutes` before the opening takes part in the draw.

- Who: every adult with an account of a household having a child with an
  accepted registration to one of the opening's services (all the booking
  services when the period names none); one message per address, alone (no
  family sees another's address).
- When: `booking-opening-invitations`, a per-town periodic job of the booking
  core (core.tasks.dispatch_to_towns, every 15 minutes), sends the invitations
  of the openings due; `manage.py invite_opening <town> <period>` sends one
  now. Once per opening (`invited_at`, set in the same transaction as the
  outbox rows, the period's row locked).
- How: through the outbox (notifications.outbox.queue_mail): the message leaves after
  the commit, and again from the outbox if the broker was down.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from booking.french import format_datetime
from booking.models import Registration, ReservationPeriod
from core.urls import tenant_reverse
from families.models import Adult
from notifications.outbox import queue_mail

INVITE_HOURS = 48
TEMPLATE = "booking/email/opening_invitation.txt"
SUBJECT = "Ouverture des réservations : connectez-vous en avance"


def session_outlives_the_opening(room_minutes: int) -> bool:
    """A session opened on the invitation is still valid when the room closes."""
    needed = timedelta(hours=INVITE_HOURS, minutes=room_minutes)
    return (
        timedelta(seconds=settings.SESSION_COOKIE_AGE) > needed
        and not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    )


def due(now: datetime):
    """The town's openings whose invitations are due (not sent, opening within
    INVITE_HOURS and not passed)."""

    return ReservationPeriod.objects.filter(
        waiting_room=True,
        invited_at__isnull=True,
        opens_at__gt=now,
        opens_at__lte=now + timedelta(hours=INVITE_HOURS),
    )


def recipients(period) -> list[str]:
    """The account addresses of the households concerned (sorted, once each)."""

    registrations = Registration.objects.filter(status=Registration.Status.ACCEPTED)
    service_ids = list(period.services.values_list("pk", flat=True))
    if service_ids:
        registrations = registrations.filter(service_id__in=service_ids)
    households = registrations.values("child__household_id")
    addresses = Adult.objects.filter(
        household_id__in=households, user__isnull=False, user__is_active=True
    ).values_list("user__email", flat=True)
    return sorted({a.strip().lower() for a in addresses if a and a.strip()})


def invite(period_id: int, *, now: datetime | None = None, again: bool = False) -> int:
    """Queue the invitations of one opening; the number of messages (0 when
    already sent, unless `again`)."""

    now = now or timezone.now()
    commune = connection.tenant
    with transaction.atomic():
        period = ReservationPeriod.objects.select_for_update().get(pk=period_id)
        if not period.waiting_room or (period.invited_at and not again):
            return 0
        context = {
            "commune": commune,
            "label": period.label,
            "opens": format_datetime(period.opens_at),
            "early_minutes": period.early_minutes,
            "early_from": format_datetime(
                period.opens_at - timedelta(minutes=period.early_minutes)
            ),
            "queue_url": tenant_reverse(
                commune, "file-attente:queue", args=[period.pk], absolute=True
            ),
            "login_url": tenant_reverse(commune, "accounts:login", absolute=True),
            "reset_url": tenant_reverse(commune, "accounts:password_reset", absolute=True),
        }
        sent = 0
        for address in recipients(period):
            queue_mail(to=[address], subject=SUBJECT, template=TEMPLATE, context=context)
            sent += 1
        period.invited_at = now
        period.save(update_fields=["invited_at"])
    return sent


def invite_due(now: datetime | None = None) -> dict[int, int]:
    """Every due opening of the current town: period id -> messages queued."""
    now = now or timezone.now()
    return {p.pk: invite(p.pk, now=now) for p in due(now)}
