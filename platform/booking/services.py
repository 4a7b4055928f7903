"""Write path of bookings: one keyword-only function per use case, in one transaction.

Capacity (docs/decisions/0102-booking-capacity.md):
- a place is taken by `UPDATE booking_dayslot SET booked = booked + 1 WHERE id = %s
  AND booked < capacity` — the row lock PostgreSQL takes for the UPDATE makes
  concurrent takers queue on that row, and the WHERE is re-checked after the
  wait, so a full day answers 0 rows instead of overbooking;
- several days are always taken in ascending date order, so two families
  booking overlapping days lock the rows in the same order and never deadlock;
- a cancellation hands its place straight to the first child of the waiting
  list (the counter does not move), so no newcomer can take it in between.
The deadline rules (booking.deadlines) are checked for families; staff bypass them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef
from django.utils import timezone

from booking import selectors
from booking.calendar import DayKind, TownCalendar
from booking.catalogue import options_of
from booking.deadlines import evaluate_cell
from booking.french import format_datetime
from booking.models import Activity, Booking, Closure, DaySlot, ReservationPeriod, WaitingListEntry
from core import metrics
from families.models import Child
from notifications.outbox import queue_mail


class BookingRefused(Exception):
    """A change the rules do not allow; the message is French, for the family."""


class DayStatus(StrEnum):
    BOOKED = "booked"
    ALREADY_BOOKED = "already_booked"
    FULL = "full"
    WAITING_LIST = "waiting_list"
    REFUSED = "refused"


@dataclass(frozen=True)
class DayResult:
    day: date
    status: DayStatus
    message: str = ""  # French
    booking: Booking | None = None


@dataclass(frozen=True)
class BookingResult:
    days: tuple[DayResult, ...]

    def with_status(self, status: DayStatus) -> list[date]:
        return [d.day for d in self.days if d.status is status]

    @property
    def booked(self) -> list[date]:
        return self.with_status(DayStatus.BOOKED)


@dataclass(frozen=True)
class CancelResult:
    booking: Booking
    promoted: Booking | None  # the waiting-list child who got the place
    offered: WaitingListEntry | None = None  # towns making time-limited offers


def _take_place(slot_id: int) -> bool:
    return bool(
        DaySlot.objects.filter(pk=slot_id, booked__lt=F("capacity")).update(booked=F("booked") + 1)
    )


def take_places(wanted: Sequence[int]) -> Counter:
    """Take places of several days in ONE statement. `wanted`: slot ids in the
    lock order of every booking path ((activity, day)), an id repeated once
    per place (two children, one day). Returns slot id -> places taken: all
    those asked for, or as many as were left (the first children in `wanted`
    get them), or none.

    The MATERIALIZED CTE locks the rows in the given order (a SELECT ... ORDER
    BY ... FOR UPDATE locks as it sorts, and reads each row's CURRENT version),
    so two submissions of overlapping days queue on their first common day
    instead of deadlocking; the UPDATE then counts on the locked, current row:
    a full day answers no row, never an overbooked one."""
    if not wanted:
        return Counter()
    counts = Counter(wanted)
    order = list(dict.fromkeys(wanted))
    table = connection.ops.quote_name(DaySlot._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH wanted AS MATERIALIZED (
                SELECT w.id, w.n, s.booked AS before FROM unnest(%s::bigint[], %s::int[])
                    WITH ORDINALITY AS w(id, n, pos)
                  JOIN {table} s ON s.id = w.id
                 ORDER BY w.pos
                   FOR UPDATE OF s
            )
            UPDATE {table} s SET booked = s.booked + LEAST(wanted.n, s.capacity - s.booked)
              FROM wanted
             WHERE s.id = wanted.id AND s.booked < s.capacity
            RETURNING s.id, s.booked - wanted.before""",
            [order, [counts[i] for i in order]],
        )
        return Counter({slot_id: taken for slot_id, taken in cursor.fetchall()})


def give_back_places(slot_ids: Iterable[int]) -> None:
    """Undo take_places for these ids (one place per occurrence)."""
    counts = Counter(slot_ids)
    if not counts:
        return
    table = connection.ops.quote_name(DaySlot._meta.db_table)
    ids = sorted(counts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} s SET booked = s.booked - w.n
              FROM unnest(%s::bigint[], %s::int[]) AS w(id, n)
             WHERE s.id = w.id""",
            [ids, [counts[i] for i in ids]],
        )


def insert_bookings(bookings: Sequence[Booking]) -> list[Booking]:
    """INSERT the (unsaved) bookings in ONE statement. A child already booked
    that day (a double click racing its twin) is skipped, not an error: the
    returned list holds only the saved ones, with their ids."""
    if not bookings:
        return []
    fields = [f for f in Booking._meta.concrete_fields if not f.primary_key]
    rows, params = [], []
    for booking in bookings:
        rows.append("(" + ", ".join(["%s"] * len(fields)) + ")")
        params.extend(f.get_db_prep_save(f.pre_save(booking, add=True), connection) for f in fields)
    table = connection.ops.quote_name(Booking._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join(rows)} "
            "ON CONFLICT (slot_id, child_id) WHERE status = 'booked' DO NOTHING "
            "RETURNING id, slot_id, child_id",
            params,
        )
        saved = {(slot_id, child_id): pk for pk, slot_id, child_id in cursor.fetchall()}
    out = []
    for booking in bookings:
        pk = saved.get((booking.slot_id, booking.child_id))
        if pk is not None:
            booking.pk = pk
            booking._state.adding = False
            booking._state.db = connection.alias
            out.append(booking)
    return out


def live_slots(slots, child_ids: Sequence[int]) -> list[DaySlot]:
    """The day slots of the queryset `slots`, each with `.live`: the live
    (booked) bookings of `child_ids` on that day, as Booking rows holding
    their id, slot and child. ONE query (a subquery per slot row)."""

    live = Booking.objects.filter(
        slot=OuterRef("pk"), child_id__in=list(child_ids), status=Booking.Status.BOOKED
    ).order_by("id")
    out = list(
        slots.annotate(
            live_ids=ArraySubquery(live.values("id")),
            live_children=ArraySubquery(live.values("child_id")),
        )
    )
    for slot in out:
        slot.live = []
        for pk, child_id in zip(slot.live_ids, slot.live_children, strict=True):
            booking = Booking(pk=pk, slot_id=slot.pk, child_id=child_id)
            booking._state.adding = False
            booking._state.db = slots.db
            slot.live.append(booking)
    return out


def _child_days(activity_id: int, days: Sequence[date], child_id: int):
    """The activity's day slots among `days` (day -> DaySlot) and the days the
    child is already booked on: ONE query, written out (the ORM's compilation
    of the same read cost more CPU than PostgreSQL spent running it)."""
    if not days:
        return {}, set()
    slot_table = connection.ops.quote_name(DaySlot._meta.db_table)
    booking_table = connection.ops.quote_name(Booking._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.id, s.day, s.capacity, s.booked, EXISTS (
                       SELECT 1 FROM {booking_table} b
                        WHERE b.slot_id = s.id AND b.child_id = %s AND b.status = %s)
              FROM {slot_table} s
             WHERE s.activity_id = %s AND s.day = ANY(%s::date[])""",
            [child_id, Booking.Status.BOOKED.value, activity_id, list(days)],
        )
        rows = cursor.fetchall()
    slots, live = {}, set()
    for pk, day, capacity, booked, is_booked in rows:
        slot = DaySlot(id=pk, activity_id=activity_id, day=day, capacity=capacity, booked=booked)
        slot._state.adding = False
        slot._state.db = connection.alias
        slots[day] = slot
        if is_booked:
            live.add(day)
    return slots, live


@transaction.atomic
def book_days(
    *,
    child,
    activity: Activity,
    days: Iterable[date],
    now: datetime | None = None,
    created_by=None,
    staff: bool = False,
    join_waiting_list: bool = False,
) -> BookingResult:
    """Book `days` of `activity` for `child`. Each day gets its own outcome: a
    full day is an answer (optionally a waiting-list entry), not an error.

    Queries: the day slots with the child's booked days (ONE query), the
    town's periods and calendar from the process cache, then ONE conditional
    UPDATE for all the days' places and ONE INSERT of their bookings."""
    now = now or timezone.now()
    service = activity.service
    wanted = sorted(set(days))  # ascending: the lock order that prevents deadlocks
    slots, live = _child_days(activity.pk, wanted, child.pk)
    outcome: dict[date, DayResult] = {}
    to_take = []
    check = None if staff else _day_checker(service, now)
    for day in wanted:
        slot = slots.get(day)
        if slot is None:
            outcome[day] = DayResult(day, DayStatus.REFUSED, "pas d'accueil ce jour-là")
        elif day in live:
            outcome[day] = DayResult(day, DayStatus.ALREADY_BOOKED, "déjà réservé")
        elif check is not None and (refusal := check(day)) is not None:
            outcome[day] = DayResult(day, DayStatus.REFUSED, refusal)
        else:
            to_take.append(slot)
    taken = take_places([s.pk for s in to_take])  # one place a day: all or nothing per day
    saved = insert_bookings(
        [Booking(slot=s, child=child, created_by=created_by) for s in to_take if taken[s.pk]]
    )
    by_slot = {b.slot_id: b for b in saved}
    give_back_places(s.pk for s in to_take if taken[s.pk] and s.pk not in by_slot)
    for slot in to_take:
        day = slot.day
        if slot.pk in by_slot:
            outcome[day] = DayResult(day, DayStatus.BOOKED, "réservé", by_slot[slot.pk])
        elif taken[slot.pk]:  # the same child booked concurrently (double click)
            outcome[day] = DayResult(day, DayStatus.ALREADY_BOOKED, "déjà réservé")
        elif join_waiting_list:
            _join_waiting_list(slot, child)
            outcome[day] = DayResult(
                day, DayStatus.WAITING_LIST, "complet — inscrit en liste d'attente"
            )
        else:
            outcome[day] = DayResult(day, DayStatus.FULL, "complet — liste d'attente possible")
    results = [outcome[day] for day in wanted]
    count_bookings(
        service.module,
        ok=sum(r.status is DayStatus.BOOKED for r in results),
        waiting=sum(r.status is DayStatus.WAITING_LIST for r in results),
        refused=sum(r.status in (DayStatus.REFUSED, DayStatus.FULL) for r in results),
    )
    return BookingResult(tuple(results))


def _day_checker(service, now: datetime):
    """day -> None (a family may book it now) or the French reason why not."""
    rules = selectors.rules_for(service)
    town = selectors.town_data()
    windows = town.windows_for(service)

    def check(day: date) -> str | None:
        state = evaluate_cell(
            day=day,
            now=now,
            rules=rules,
            booked=False,
            session_start=selectors.session_start_for(rules, day, town.calendar, service.code),
            windows=windows,
            service=service.code,
            holidays=town.holidays,
        )
        return None if state.can_book else state.explanation

    return check


def count_bookings(
    module: str, *, ok: int = 0, waiting: int = 0, refused: int = 0, action: str = "created"
) -> None:
    """Metrics of what a booking service did: done and waiting-list days after
    commit (a rollback counts nothing), refusals at once (nothing to commit)."""
    if refused:
        metrics.record_booking(module=module, action=action, outcome="refused", count=refused)
    if ok:
        metrics.after_commit(
            metrics.record_booking, module=module, action=action, outcome="ok", count=ok
        )
    if waiting:
        metrics.after_commit(
            metrics.record_booking,
            module=module,
            action=action,
            outcome="waiting_list",
            count=waiting,
        )


def _join_waiting_list(slot: DaySlot, child) -> WaitingListEntry:
    try:
        with transaction.atomic():
            return WaitingListEntry.objects.create(slot=slot, child=child)
    except IntegrityError:  # already waiting for that day
        return WaitingListEntry.objects.get(
            slot=slot, child=child, status=WaitingListEntry.Status.WAITING
        )


@transaction.atomic
def cancel_booking(
    *, booking: Booking, now: datetime | None = None, staff: bool = False
) -> CancelResult:
    """Cancel one booked day; its place goes to the waiting list's first child."""
    now = now or timezone.now()
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("slot__activity__service")
        .get(pk=booking.pk)
    )
    if booking.status != Booking.Status.BOOKED:
        raise BookingRefused("Cette réservation est déjà annulée.")
    slot = booking.slot
    service = slot.activity.service
    rules = selectors.rules_for(service)
    state = evaluate_cell(
        day=slot.day,
        now=now,
        rules=rules,
        booked=True,
        session_start=selectors.session_start_for(
            rules, slot.day, selectors.town_calendar(), service.code
        ),
        windows=selectors.windows_for(service),
        service=service.code,
        holidays=selectors.public_holidays(),
    )
    if not state.can_cancel and not staff:
        count_bookings(service.module, action="cancelled", refused=1)
        raise BookingRefused(f"Annulation impossible : {state.explanation}.")
    count_bookings(service.module, action="cancelled", ok=1)
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = now
    # Staff may cancel after the deadline (the town's desk): billing may still
    # charge that day (Booking.cancelled_late, tariff `late_cancellation_percent`).
    booking.cancelled_late = not state.can_cancel
    booking.save(update_fields=["status", "cancelled_at", "cancelled_late"])
    promoted, offered = hand_over_place(slot, now)
    return CancelResult(booking=booking, promoted=promoted, offered=offered)


def hand_over_place(slot: DaySlot, now: datetime) -> tuple[Booking | None, WaitingListEntry | None]:
    """A place of `slot` was just freed (its counter not yet lowered): give it to
    the first waiting child, or offer it for a limited time (per the service's
    `waiting_list.mode`), or give it back to the counter. E-mails after commit."""

    opts = options_of(slot.activity.service)
    if opts.waiting_mode == "offer":
        offered = _offer_next(slot, now, opts.offer_hours)
        if offered is None:
            DaySlot.objects.filter(pk=slot.pk, booked__gt=0).update(booked=F("booked") - 1)
        return None, offered
    promoted = _promote_next(slot, now)
    if promoted is None:
        DaySlot.objects.filter(pk=slot.pk, booked__gt=0).update(booked=F("booked") - 1)
    return promoted, None


def _next_waiting(slot: DaySlot, now: datetime) -> WaitingListEntry | None:
    while True:
        # SKIP LOCKED: two simultaneous cancellations promote two different children.
        entry = (
            WaitingListEntry.objects.select_for_update(skip_locked=True)
            .filter(slot=slot, status=WaitingListEntry.Status.WAITING)
            .order_by("created_at", "id")
            .first()
        )
        if entry is None:
            return None
        if Booking.objects.filter(
            slot=slot, child_id=entry.child_id, status=Booking.Status.BOOKED
        ).exists():
            # Booked meanwhile (by staff): the entry has no purpose any more.
            entry.status = WaitingListEntry.Status.WITHDRAWN
            entry.resolved_at = now
            entry.save(update_fields=["status", "resolved_at"])
            continue
        return entry


def _promote_next(slot: DaySlot, now: datetime) -> Booking | None:
    """Give a place to the first waiting child (the caller owns that place)."""
    entry = _next_waiting(slot, now)
    if entry is None:
        return None
    entry.resolved_at = now
    entry.status = WaitingListEntry.Status.PROMOTED
    entry.save(update_fields=["status", "resolved_at"])
    booking = Booking.objects.create(slot=slot, child_id=entry.child_id, from_waiting_list=True)
    count_bookings(slot.activity.service.module, ok=1)  # the waiting child's booking
    notify_family(
        child_id=entry.child_id,
        template="booking/email/promoted.txt",
        subject="Une place s'est libérée : réservation confirmée",
        context={"slot": slot, "booking": booking},
    )
    return booking


def _offer_next(slot: DaySlot, now: datetime, hours: int) -> WaitingListEntry | None:
    """Hold the freed place for the first waiting child until `hours` from now."""
    entry = _next_waiting(slot, now)
    if entry is None:
        return None
    entry.status = WaitingListEntry.Status.OFFERED
    entry.offer_expires_at = now + timedelta(hours=hours)
    entry.save(update_fields=["status", "offer_expires_at"])
    notify_family(
        child_id=entry.child_id,
        template="booking/email/offer.txt",
        subject="Une place vous est proposée",
        context={"slot": slot, "entry": entry, "until": format_datetime(entry.offer_expires_at)},
    )
    return entry


@transaction.atomic
def accept_offer(*, entry: WaitingListEntry, now: datetime | None = None) -> Booking:
    """The family takes the place held for it (the counter already counts it)."""
    now = now or timezone.now()
    entry = WaitingListEntry.objects.select_for_update().select_related("slot").get(pk=entry.pk)
    if entry.status != WaitingListEntry.Status.OFFERED:
        raise BookingRefused("Cette proposition n'est plus valable.")
    if entry.offer_expires_at and entry.offer_expires_at <= now:
        raise BookingRefused(
            f"Cette proposition a expiré le {format_datetime(entry.offer_expires_at)}."
        )
    entry.status = WaitingListEntry.Status.PROMOTED
    entry.resolved_at = now
    entry.save(update_fields=["status", "resolved_at"])
    return Booking.objects.create(slot=entry.slot, child_id=entry.child_id, from_waiting_list=True)


@transaction.atomic
def decline_offer(
    *, entry: WaitingListEntry, now: datetime | None = None, expired: bool = False
) -> None:
    """The family declines (or lets expire) an offer: the next child gets it."""
    now = now or timezone.now()
    entry = (
        WaitingListEntry.objects.select_for_update()
        .select_related("slot__activity__service")
        .get(pk=entry.pk)
    )
    if entry.status != WaitingListEntry.Status.OFFERED:
        raise BookingRefused("Cette proposition n'est plus valable.")
    entry.status = WaitingListEntry.Status.EXPIRED if expired else WaitingListEntry.Status.WITHDRAWN
    entry.resolved_at = now
    entry.save(update_fields=["status", "resolved_at"])
    hand_over_place(entry.slot, now)


def expire_offers(*, now: datetime | None = None) -> int:
    """Offers past their time go to the next child (periodic task, per town)."""
    now = now or timezone.now()
    count = 0
    for entry in WaitingListEntry.objects.filter(
        status=WaitingListEntry.Status.OFFERED, offer_expires_at__lte=now
    ).order_by("offer_expires_at", "id"):
        try:
            decline_offer(entry=entry, now=now, expired=True)
            count += 1
        except BookingRefused:  # taken or declined meanwhile
            continue
    return count


def notify_family(*, child_id: int, template: str, subject: str, context: dict) -> None:
    """E-mail a child's legal representatives after commit (notifications.outbox)."""

    to = selectors.family_emails([child_id]).get(child_id, [])
    if not to:
        return
    child = Child.objects.only("first_name", "last_name").get(pk=child_id)
    queue_mail(
        to=to,
        subject=subject,
        template=template,
        context={
            "commune": connection.tenant,
            "child": child,
            "portal_url": portal_url(),
            **context,
        },
    )


def portal_url() -> str:
    return f"{settings.SITE_URL}/{getattr(connection.tenant, 'slug', '')}/"


@transaction.atomic
def leave_waiting_list(*, entry: WaitingListEntry, now: datetime | None = None) -> None:
    updated = WaitingListEntry.objects.filter(
        pk=entry.pk, status=WaitingListEntry.Status.WAITING
    ).update(status=WaitingListEntry.Status.WITHDRAWN, resolved_at=now or timezone.now())
    if not updated:
        raise BookingRefused("Cette demande n'est plus en liste d'attente.")


@transaction.atomic
def change_capacity(*, slot: DaySlot, capacity: int, now: datetime | None = None) -> list[Booking]:
    """Staff change a day's places; new places go to the waiting list first.
    Returns the bookings made from the waiting list."""
    if capacity < 0:
        raise BookingRefused("Le nombre de places ne peut pas être négatif.")
    if not DaySlot.objects.filter(pk=slot.pk, booked__lte=capacity).update(capacity=capacity):
        slot.refresh_from_db()
        raise BookingRefused(
            f"{slot.booked} enfants sont déjà inscrits ce jour-là : "
            f"impossible de descendre à {capacity} places."
        )
    return promote_waiting(slot=slot, now=now)


@transaction.atomic
def promote_waiting(*, slot: DaySlot, now: datetime | None = None) -> list[Booking]:
    """Fill a day's free places from its waiting list, first come first served."""

    now = now or timezone.now()
    slot = DaySlot.objects.select_related("activity__service").get(pk=slot.pk)
    opts = options_of(slot.activity.service)
    promoted = []
    while True:
        has_waiting = WaitingListEntry.objects.filter(
            slot=slot, status=WaitingListEntry.Status.WAITING
        ).exists()
        if not has_waiting or not _take_place(slot.pk):
            return promoted
        if opts.waiting_mode == "offer":
            offered = _offer_next(slot, now, opts.offer_hours)
            booking = None
            if offered is not None:
                continue
        else:
            booking = _promote_next(slot, now)
        if booking is None:  # the last entry went away meanwhile: give the place back
            DaySlot.objects.filter(pk=slot.pk, booked__gt=0).update(booked=F("booked") - 1)
            return promoted
        promoted.append(booking)


@transaction.atomic
def open_days(
    *,
    activity: Activity,
    calendar: TownCalendar,
    start: date,
    end: date,
    kinds: Iterable[DayKind],
    capacity: int | None = None,
) -> int:
    """Create the day slots of an activity for its opening days (existing ones
    are kept). Returns how many were created."""
    days = calendar.opening_days(start, end, frozenset(kinds), activity.service.code)
    places = activity.default_capacity if capacity is None else capacity
    existing = set(
        DaySlot.objects.filter(activity=activity, day__in=days).values_list("day", flat=True)
    )
    created = DaySlot.objects.bulk_create(
        [DaySlot(activity=activity, day=d, capacity=places) for d in days if d not in existing],
        ignore_conflicts=True,
    )
    return len(created)


# --- catalogue (town staff) ----------------------------------------------------------


@transaction.atomic
def set_capacity(*, activity: Activity, capacity: int) -> None:
    """Places per day for the days opened from now on (opened days keep theirs:
    change_capacity changes one day and serves its waiting list)."""
    if capacity < 0:
        raise BookingRefused("Le nombre de places ne peut pas être négatif.")
    Activity.objects.filter(pk=activity.pk).update(default_capacity=capacity)


@transaction.atomic
def set_eligibility(
    *, activity: Activity, min_age_months: int | None, max_age_months: int | None
) -> None:
    """Ages accepted at an activity (months; empty: no limit)."""
    if (
        min_age_months is not None
        and max_age_months is not None
        and min_age_months > max_age_months
    ):
        raise BookingRefused("L'âge minimum dépasse l'âge maximum.")
    Activity.objects.filter(pk=activity.pk).update(
        min_age_months=min_age_months, max_age_months=max_age_months
    )


@transaction.atomic
def add_reservation_period(
    *,
    label: str,
    opens_at: datetime,
    closes_at: datetime,
    first_day: date | None,
    last_day: date | None,
    services=(),
    **opening,
):
    """A published reservation period ("summer bookings open on 1 May at 08:30").
    `opening`: its waiting room (ReservationPeriod.waiting_room, early_minutes,
    room_minutes, admit_per_minute, pass_minutes)."""

    if opens_at > closes_at:
        raise BookingRefused("La période se ferme avant de s'ouvrir.")
    if first_day and last_day and first_day > last_day:
        raise BookingRefused("Le premier jour concerné est après le dernier.")
    period = ReservationPeriod.objects.create(
        label=label[:160],
        opens_at=opens_at,
        closes_at=closes_at,
        first_day=first_day,
        last_day=last_day,
        **{k: v for k, v in opening.items() if v is not None},
    )
    period.services.set(services)
    return period


@transaction.atomic
def add_closure(
    *, label: str, first_day: date, last_day: date, services=()
) -> tuple[object, int, int]:
    """A town closure (e.g. the ALSH between Christmas and New Year). Opened days
    of the concerned services without any booking are removed; days already
    booked stay for staff to handle (returned count), nothing is cancelled
    behind the families' backs."""

    if first_day > last_day:
        raise BookingRefused("La fermeture finit avant de commencer.")
    closure = Closure.objects.create(label=label[:160], first_day=first_day, last_day=last_day)
    closure.services.set(services)
    slots = DaySlot.objects.filter(day__range=(first_day, last_day))
    if services:
        slots = slots.filter(activity__service__in=list(services))
    empty = (
        slots.filter(booked=0).exclude(bookings__isnull=False).exclude(waiting_list__isnull=False)
    )
    removed = empty.count()
    empty.delete()
    return closure, removed, slots.count()
