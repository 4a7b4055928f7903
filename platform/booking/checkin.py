"""The day list at the door: who is expected, what staff must know to keep
each child safe, and the check-in marks ("pointage").

- Safety per child: allergies, PAI and where its kit is, diet, who may pick
  the child up, "may leave alone", an emergency phone, the absence state.
- Health columns (allergies, PAI, diet) only for staff of the service's area
  who also hold the health area (`User.Area.HEALTH`); each display of them is
  written to the access journal (audit.journal, one row per household shown).
- Rows sort "still to check" first; a running count says how many are left.
- Marks carry an id made by the tablet: a replayed offline queue counts once,
  and an older mark arriving late never overwrites a newer one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone

from audit import journal
from audit.models import AuditEntry
from booking.models import Activity, Attendance, AttendanceMark, Booking, DaySlot, WaitingListEntry
from booking.services import BookingRefused
from families.models import Adult, EntourageMember

HEALTH_AREA = "sante"


def sees_health(user, module_code: str) -> bool:
    """Health columns: staff of the service's area who also hold the health area."""
    return bool(
        getattr(user, "is_town_staff", False)
        and user.works_in(module_code)
        and user.works_in(HEALTH_AREA)
    )


@dataclass
class SafetyRow:
    booking: Booking
    allergies: str = ""
    diet: str = ""
    pai: bool = False
    pai_kit: str = ""
    may_leave_alone: bool = False
    pick_up: list[str] = field(default_factory=list)
    emergency_phone: str = ""
    emergency_name: str = ""

    @property
    def child(self):
        return self.booking.child

    @property
    def to_check(self) -> bool:
        return self.booking.attendance == Attendance.PENDING

    @property
    def absence(self):
        return getattr(self.booking, "absence", None)

    @property
    def has_health(self) -> bool:
        return bool(self.allergies or self.diet or self.pai)


@dataclass
class CheckinList:
    activity: Activity
    day: date
    slot: DaySlot | None
    rows: list[SafetyRow]
    waiting: list

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def checked(self) -> int:
        return sum(1 for r in self.rows if not r.to_check)

    @property
    def remaining(self) -> int:
        return self.total - self.checked

    @property
    def present(self) -> int:
        return sum(1 for r in self.rows if r.booking.attendance == Attendance.PRESENT)

    @property
    def absent(self) -> int:
        return sum(1 for r in self.rows if r.booking.attendance == Attendance.ABSENT)


def checkin_list(*, activity: Activity, day: date) -> CheckinList:
    """The day's bookings with each child's safety facts; a constant number of
    queries whatever the number of children (slot, bookings, 2 prefetches, waiting)."""

    slot = DaySlot.objects.filter(activity=activity, day=day).first()
    bookings, waiting = [], []
    if slot is not None:
        bookings = list(
            Booking.objects.filter(slot=slot, status=Booking.Status.BOOKED)
            .select_related("child__household", "child__health", "absence")
            .prefetch_related(
                Prefetch("child__guardians", queryset=Adult.objects.order_by("id")),
                Prefetch(
                    "child__household__entourage",
                    queryset=EntourageMember.objects.order_by("last_name", "id"),
                ),
            )
        )
        waiting = list(
            WaitingListEntry.objects.filter(
                slot=slot,
                status__in=[WaitingListEntry.Status.WAITING, WaitingListEntry.Status.OFFERED],
            )
            .select_related("child")
            .order_by("created_at", "id")
        )
    rows = [_safety(b) for b in bookings]
    rows.sort(key=sort_key)
    return CheckinList(activity, day, slot, rows, waiting)


def sort_key(row: SafetyRow):
    """Still to check first, then by name."""
    child = row.booking.child
    return (not row.to_check, child.last_name.lower(), child.first_name.lower(), row.booking.pk)


def _safety(booking: Booking) -> SafetyRow:
    child = booking.child
    health = getattr(child, "health", None)
    guardians = list(child.guardians.all())
    entourage = list(child.household.entourage.all())
    pick_up = [f"{a.first_name} {a.last_name} (parent)" for a in guardians]
    pick_up += [
        f"{e.first_name} {e.last_name}" + (f" ({e.relationship})" if e.relationship else "")
        for e in entourage
        if e.can_pick_up
    ]
    emergency = next((e for e in entourage if e.emergency_contact and e.phone), None)
    if emergency is not None:
        phone, name = emergency.phone, f"{emergency.first_name} {emergency.last_name}"
    else:
        parent = next((a for a in guardians if a.phone), None)
        phone = parent.phone if parent else ""
        name = f"{parent.first_name} {parent.last_name}" if parent else ""
    row = SafetyRow(booking, pick_up=pick_up, emergency_phone=phone, emergency_name=name)
    if health is not None:
        row.allergies = health.allergies.strip()
        row.diet = health.get_diet_display() if health.diet and health.diet != "standard" else ""
        row.pai = health.pai
        row.pai_kit = health.pai_details.strip()
        row.may_leave_alone = health.may_leave_alone
    return row


def log_health_display(*, user, day_list: CheckinList, where: str) -> int:
    """One access-journal row per household whose children's health data was
    shown (the DPO filters the journal by household). Returns the rows written."""

    label = f"{user.get_username()} ({user.get_role_display()})"[:200]
    shown: dict[int, list[int]] = {}
    for row in day_list.rows:
        shown.setdefault(row.child.household_id, []).append(row.child.pk)
    entries = [
        AuditEntry(
            actor=user,
            actor_label=label,
            action=journal.VIEW_HEALTH,
            household_id=household_id,
            target=f"booking.Activity#{day_list.activity.pk}"[:120],
            detail={"day": day_list.day.isoformat(), "children": children, "where": where},
        )
        for household_id, children in shown.items()
    ]
    AuditEntry.objects.bulk_create(entries)
    return len(entries)


@dataclass(frozen=True)
class MarkOutcome:
    booking: Booking
    recorded: bool  # False: a replay of a mark already received
    applied: bool  # False: a newer mark already set the state


def record_mark(
    *,
    booking: Booking,
    attendance: str,
    mark_id,
    actor=None,
    marked_at: datetime | None = None,
    now: datetime | None = None,
) -> MarkOutcome:
    """Apply one check-in mark, once. `marked_at` (the tablet's clock when the
    agent tapped) is kept within the last day: a wrong clock cannot reorder marks."""
    now = now or timezone.now()
    if attendance not in Attendance.values:
        raise BookingRefused("Pointage inconnu.")
    try:
        mark_uuid = uuid.UUID(str(mark_id))
    except ValueError:
        raise BookingRefused("Pointage illisible : rechargez la page.") from None
    when = marked_at or now
    when = min(max(when, now - timedelta(days=1)), now)
    with transaction.atomic():
        locked = Booking.objects.select_for_update().filter(pk=booking.pk).first()
        if locked is None or locked.status != Booking.Status.BOOKED:
            raise BookingRefused("Cette réservation a été annulée.")
        if AttendanceMark.objects.filter(mark_id=mark_uuid).exists():
            booking.attendance = locked.attendance
            return MarkOutcome(booking, recorded=False, applied=False)
        newer = AttendanceMark.objects.filter(booking=locked, marked_at__gt=when).exists()
        try:
            with transaction.atomic():
                AttendanceMark.objects.create(
                    mark_id=mark_uuid,
                    booking=locked,
                    attendance=attendance,
                    marked_at=when,
                    marked_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
        except IntegrityError:  # the same id on another booking: a forged or broken queue
            raise BookingRefused("Pointage déjà reçu pour un autre enfant.") from None
        if not newer:
            Booking.objects.filter(pk=locked.pk).update(attendance=attendance)
            locked.attendance = attendance
    booking.attendance = locked.attendance
    return MarkOutcome(booking, recorded=True, applied=not newer)
