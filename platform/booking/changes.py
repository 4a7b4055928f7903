"""Write path of a family's reservation changes: ONE submission of the grid, a
pattern ("tous les lundis et jeudis") or an API call, applied all-or-nothing.

Every change is checked first (the child's registration for that school year,
eligibility, the deadline rules, the opening day); then places are taken and
given back in ONE order, (activity, day), the order every booking path uses,
so two submissions never deadlock. Any refusal — including a day found full
while taking places — rolls the whole submission back: nothing partial is
saved. A full day is a refusal unless the family asked for the waiting list.
On success, one acknowledgement e-mail describes the submission (Castres:
"un accusé de réception vous est transmis").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from booking import selectors
from booking.catalogue import activity_eligibility
from booking.deadlines import evaluate_cell
from booking.french import format_date
from booking.models import Activity, Booking, ChangeSet, DaySlot, Registration, WaitingListEntry
from booking.rules import (
    Action,
    Change,
    eligibility_problem,
    is_resident,
    school_year_label,
    school_year_of,
)
from booking.services import (
    _join_waiting_list,
    _take_place,
    count_bookings,
    give_back_places,
    hand_over_place,
    insert_bookings,
    live_slots,
    portal_url,
    take_places,
)
from families.models import Household
from notifications.outbox import queue_mail


@dataclass(frozen=True)
class ChangeError:
    change: Change
    message: str  # French: "Léa, mercredi 17 mars 2027 : délai dépassé depuis ..."
    kind: str = "rule"  # "rule", "full", "unknown"

    @property
    def key(self) -> str:
        c = self.change
        return f"{c.child_id}:{c.activity_id}:{c.day.isoformat()}"


class ChangesRefused(Exception):
    """The submission is refused as a whole; `errors` says why, change by change."""

    def __init__(self, errors: list[ChangeError]):
        self.errors = errors
        super().__init__(self.detail)

    @property
    def only_full(self) -> bool:
        return all(e.kind == "full" for e in self.errors)

    @property
    def detail(self) -> str:
        n = len(self.errors)
        head = "Aucune modification n'a été enregistrée : " + (
            "un jour ne peut pas être modifié."
            if n == 1
            else f"{n} jours ne peuvent pas être modifiés."
        )
        return head + " " + " ; ".join(e.message for e in self.errors[:10])


@dataclass
class ChangesApplied:
    changeset: ChangeSet | None = None
    booked: list[Booking] = field(default_factory=list)
    cancelled: list[Booking] = field(default_factory=list)
    waiting: list[WaitingListEntry] = field(default_factory=list)
    promoted: list[Booking] = field(default_factory=list)
    offered: list[WaitingListEntry] = field(default_factory=list)
    unchanged: int = 0

    @property
    def count(self) -> int:
        return len(self.booked) + len(self.cancelled) + len(self.waiting)


@dataclass(frozen=True)
class _Facts:
    """The rows a submission is checked against, read in bulk before any write."""

    activities: dict[int, Activity]
    slots: dict[tuple[int, object], DaySlot]  # (activity id, day) -> slot
    live: dict[tuple[int, int], Booking]  # (child id, slot id) -> live booking
    registrations: dict[tuple[int, int], str]  # (child id, school year) -> status


@dataclass(frozen=True)
class _Step:
    change: Change
    slot: DaySlot
    booking: Booking | None  # the live booking a cancellation ends
    wait: bool  # straight to the waiting list (the day was full when checked)


@transaction.atomic
def apply_changes(
    *,
    children: Mapping[int, object],
    service,
    changes: Iterable[Change],
    user=None,
    household=None,
    now: datetime | None = None,
    join_waiting_list: bool = False,
    staff: bool = False,
    registrations: Mapping[tuple[int, int], str] | None = None,
) -> ChangesApplied:
    """Apply `changes` for `children` (id -> Child, ALREADY scoped to the
    family by the caller) on `service`'s activities, or raise ChangesRefused.
    `registrations`: the children's (child id, school year) -> effective status
    for `service` when the caller read them with the children
    (grid.family_children_registered), covering the changes' school years.

    Four steps: read the facts (2 queries, 1 with `registrations`), check every change against the
    rules (no query: the town's periods and calendar come from the process
    cache), write (a submission that only books: ONE conditional UPDATE of
    the days' counters and ONE INSERT of the bookings), then the receipt."""
    now = now or timezone.now()
    changes = sorted(set(changes), key=lambda c: (c.activity_id, c.day, c.child_id, c.action))
    result = ChangesApplied()
    if not changes:
        return result
    facts = _read_facts(children, service, changes, registrations)
    plan, errors = _check(
        changes, children, service, facts, result, now=now, staff=staff, wait=join_waiting_list
    )
    if not errors:
        if all(step.change.action is Action.BOOK for step in plan):
            errors = _book_all(plan, children, user, result, join_waiting_list)
        else:
            errors = _apply_in_order(plan, children, user, result, now, join_waiting_list)
    if errors:
        _count_refused(service, errors)
        raise ChangesRefused(errors)  # rolls back every place taken above
    count_bookings(service.module, ok=len(result.booked), waiting=len(result.waiting))
    count_bookings(service.module, action="cancelled", ok=len(result.cancelled))
    if household is not None and result.count:
        lines = _lines(result, children)
        result.changeset = ChangeSet.objects.create(
            household=household, submitted_by=user, summary=lines
        )
        _acknowledge(result.changeset, service, user, lines)
    return result


def _read_facts(children, service, changes: list[Change], registrations=None) -> _Facts:
    """The activities and their day slots with the children's live bookings
    on them (one query; the activities alone only when a change names a day
    without any slot), and the registrations (one query, unless given)."""
    activity_ids = {c.activity_id for c in changes}
    days = {c.day for c in changes}
    slots, activities, live = {}, {}, {}
    for slot in live_slots(
        DaySlot.objects.filter(
            activity__service=service,
            activity__is_active=True,
            activity_id__in=activity_ids,
            day__in=days,
        ).select_related("activity"),
        list(children),
    ):
        slot.activity.service = service  # the same row: no query for slot.activity.service
        activities.setdefault(slot.activity_id, slot.activity)
        slots[(slot.activity_id, slot.day)] = slot
        for booking in slot.live:
            live[(booking.child_id, slot.pk)] = booking
    if activity_ids - set(activities):
        for activity in Activity.objects.filter(
            service=service, is_active=True, pk__in=activity_ids - set(activities)
        ):
            activity.service = service
            activities[activity.pk] = activity
    if registrations is None:
        registrations = _registrations(children, service, days)
    return _Facts(activities, slots, live, registrations)


def _check(
    changes, children, service, facts: _Facts, result: ChangesApplied, *, now, staff, wait
) -> tuple[list[_Step], list[ChangeError]]:
    """Every change against the rules, before any write: the plan, in
    (activity, day) order, or the errors. Changes already in the wanted state
    are counted in `result.unchanged`."""
    rules = selectors.rules_for(service)
    town = selectors.town_data()
    windows = town.windows_for(service)
    residence: dict[int, bool | None] = {}
    errors: list[ChangeError] = []
    plan: list[_Step] = []
    for ch in changes:
        child = children.get(ch.child_id)
        who = f"{child.first_name}, {format_date(ch.day)}" if child else format_date(ch.day)
        activity = facts.activities.get(ch.activity_id)
        if child is None or activity is None:
            errors.append(ChangeError(ch, f"{who} : enfant ou activité inconnus.", "unknown"))
            continue
        slot = facts.slots.get((activity.pk, ch.day))
        booking = facts.live.get((child.pk, slot.pk)) if slot else None
        if (ch.action is Action.BOOK) == (booking is not None):
            result.unchanged += 1  # already in the wanted state
            continue
        if slot is None:
            errors.append(ChangeError(ch, f"{who} : pas d'accueil ce jour-là."))
            continue
        if staff:
            plan.append(_Step(ch, slot, booking, False))
            continue
        problem = None
        if ch.action is Action.BOOK:
            problem = _registration_problem(
                facts.registrations, child, ch.day
            ) or eligibility_problem(
                activity_eligibility(activity),
                birth_date=child.birth_date,
                school_level=getattr(child, "school_class", ""),
                on=ch.day,
                resident=_resident(child, residence),
            )
        if problem:
            errors.append(ChangeError(ch, f"{who} : {problem}."))
            continue
        state = evaluate_cell(
            day=ch.day,
            now=now,
            rules=rules,
            booked=ch.action is Action.CANCEL,
            session_start=selectors.session_start_for(rules, ch.day, town.calendar, service.code),
            windows=windows,
            full=slot.booked >= slot.capacity,
            service=service.code,
            holidays=town.holidays,
        )
        allowed = state.can_cancel if ch.action is Action.CANCEL else state.can_book
        if not allowed and state.waiting_list:
            if not wait:
                errors.append(
                    ChangeError(ch, f"{who} : complet — liste d'attente possible.", "full")
                )
                continue
            plan.append(_Step(ch, slot, booking, True))
        elif not allowed:
            errors.append(ChangeError(ch, f"{who} : {state.explanation}."))
        else:
            plan.append(_Step(ch, slot, booking, False))
    return plan, errors


def _full(ch: Change, child) -> ChangeError:
    return ChangeError(
        ch,
        f"{child.first_name}, {format_date(ch.day)} : complet — liste d'attente possible.",
        "full",
    )


def _book_all(plan, children, user, result, join_waiting_list) -> list[ChangeError]:
    """A submission that only books: every place in ONE conditional UPDATE
    (rows locked in (activity, day) order), every booking in ONE INSERT. A day
    with fewer places left than children asking: the first children (the
    plan's order) get them, as one by one would."""
    to_take = [step for step in plan if not step.wait]
    left = take_places([step.slot.pk for step in to_take])
    errors, rows, late = [], [], []
    for step in to_take:
        child = children[step.change.child_id]
        if left[step.slot.pk] > 0:
            left[step.slot.pk] -= 1
            rows.append(Booking(slot=step.slot, child=child, created_by=user))
        elif join_waiting_list:  # taken by another family since the check
            late.append(step)
        else:
            errors.append(_full(step.change, child))
    if errors:
        return errors  # the caller's refusal rolls the places back
    saved = insert_bookings(rows)
    result.booked.extend(saved)
    done = {(b.slot_id, b.child_id) for b in saved}
    duplicates = [b for b in rows if (b.slot_id, b.child_id) not in done]
    result.unchanged += len(duplicates)  # the same child booked concurrently (double click)
    give_back_places(b.slot_id for b in duplicates)
    for step in [s for s in plan if s.wait] + late:
        result.waiting.append(_join_waiting_list(step.slot, children[step.change.child_id]))
    return []


def _apply_in_order(plan, children, user, result, now, join_waiting_list) -> list[ChangeError]:
    """A submission that cancels too: change by change in (activity, day)
    order, the order every booking path locks day rows in."""
    errors = []
    for step in plan:
        ch, slot = step.change, step.slot
        child = children[ch.child_id]
        if ch.action is Action.CANCEL:
            _cancel(step.booking, slot, result, now)
            continue
        if not step.wait:
            try:
                with transaction.atomic():
                    taken = _take_place(slot.pk)
                    if taken:
                        result.booked.append(
                            Booking.objects.create(slot=slot, child=child, created_by=user)
                        )
            except IntegrityError:  # the same child booked concurrently (double click)
                result.unchanged += 1
                continue
            if taken:
                continue
            if not join_waiting_list:  # taken by another family since the check
                errors.append(_full(ch, child))
                continue
        result.waiting.append(_join_waiting_list(slot, child))
    return errors


def _cancel(booking: Booking, slot: DaySlot, result: ChangesApplied, now) -> None:
    locked = Booking.objects.select_for_update(of=("self",)).get(pk=booking.pk)
    if locked.status != Booking.Status.BOOKED:
        result.unchanged += 1
        return
    locked.status = Booking.Status.CANCELLED
    locked.cancelled_at = now
    locked.save(update_fields=["status", "cancelled_at"])
    locked.slot = slot
    result.cancelled.append(locked)
    promoted, offered = hand_over_place(slot, now)
    if promoted:
        result.promoted.append(promoted)
    if offered:
        result.offered.append(offered)


def _resident(child, memo: dict) -> bool | None:
    """Does the child's household live in the town (residence rules)? Once per
    household; no query when the caller loaded the child with its household."""

    if child.household_id not in memo:
        household = child._state.fields_cache.get("household")
        if household is not None:
            city = household.city
        else:
            city = Household.objects.filter(pk=child.household_id).values_list("city", flat=True)
            city = city.first()
        memo[child.household_id] = is_resident(city or "", connection.tenant.name)
    return memo[child.household_id]


def _count_refused(service, errors: list[ChangeError]) -> None:
    for action in (Action.BOOK, Action.CANCEL):
        refused = sum(e.change.action is action for e in errors)
        name = "cancelled" if action is Action.CANCEL else "created"
        count_bookings(service.module, action=name, refused=refused)


def _registrations(children, service, days) -> dict[tuple[int, int], str]:
    years = {school_year_of(d) for d in days}
    return {
        (r.child_id, r.school_year): r.effective_status
        for r in Registration.objects.filter(
            child_id__in=list(children),
            service=service,
            school_year__in=years,
            status__in=[Registration.Status.ACCEPTED, Registration.Status.PENDING],
        ).select_related("demande")
    }


def _registration_problem(registrations, child, day) -> str | None:
    year = school_year_of(day)
    status = registrations.get((child.pk, year))
    if status == Registration.Status.ACCEPTED:
        return None
    if status == Registration.Status.PENDING:
        return "inscription au service pas encore validée"
    return f"pas d'inscription à ce service pour l'année scolaire {school_year_label(year)}"


def _lines(result: ChangesApplied, children) -> list[str]:
    def line(child_id, day, activity_name, what):
        return f"{children[child_id].first_name} — {format_date(day)} — {activity_name} : {what}"

    out = []
    for b in result.booked:
        out.append(line(b.child_id, b.slot.day, b.slot.activity.name, "réservé"))
    for b in result.cancelled:
        out.append(line(b.child_id, b.slot.day, b.slot.activity.name, "annulé"))
    for w in result.waiting:
        out.append(line(w.child_id, w.slot.day, w.slot.activity.name, "en liste d'attente"))
    return out


def _acknowledge(changeset: ChangeSet, service, user, lines: list[str]) -> None:
    to = [user.email] if user is not None and getattr(user, "email", "") else []
    if not to:
        return
    queue_mail(
        to=to,
        subject=f"Vos réservations sont enregistrées ({service.name})",
        template="booking/email/changes.txt",
        context={
            "commune": connection.tenant,
            "service": service,
            "lines": lines,
            "changeset": changeset,
            "portal_url": portal_url(),
        },
    )
