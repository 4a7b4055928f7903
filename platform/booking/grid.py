"""Read path of the family grid and the staff lists, in a CONSTANT number of
queries whatever the number of children, days and bookings (tests assert it):
every row is fetched in bulk, then cells are computed by the pure rules.

The family grid is ONE screen for all the children of the signed-in adult
(a family with three children books in one screen): rows are days, columns
are "tracks" — a child at one activity (one column per child for a day
service; one per hour for occasional crèche care).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import JSONObject

from booking import selectors
from booking.catalogue import activity_eligibility, is_hourly, options_of
from booking.deadlines import CellState, Reason, evaluate_cell
from booking.french import PARIS, format_datetime
from booking.models import Activity, Booking, DaySlot, Registration, WaitingListEntry
from booking.rules import eligibility_problem, school_year_label, school_year_of
from families.models import Adult, Child


@dataclass
class Track:
    index: int
    child: object
    activity: Activity
    label: str  # "Léa" or "Léa 08:00"


@dataclass
class GridCell:
    track: Track
    day: date
    slot: DaySlot | None
    booking: Booking | None
    entry: WaitingListEntry | None
    state: CellState
    editable: bool
    status: str  # short French word shown in the cell
    text: str  # why the cell is (not) editable, always shown as text
    can_report: bool = False  # booked, no longer cancellable: an absence may be reported

    @property
    def key(self) -> str:
        return f"{self.track.child.pk}:{self.track.activity.pk}:{self.day.isoformat()}"

    @property
    def checked(self) -> bool:
        return self.booking is not None

    @property
    def full(self) -> bool:
        return self.state.waiting_list

    @property
    def absence(self):
        return getattr(self.booking, "absence", None) if self.booking else None


@dataclass
class GridRow:
    day: date
    cells: list[GridCell]


@dataclass
class Grid:
    service: object
    start: date
    end: date
    children: list
    tracks: list[Track] = field(default_factory=list)
    rows: list[GridRow] = field(default_factory=list)
    unregistered: list = field(default_factory=list)  # children with no registration
    registrations: dict = field(default_factory=dict)  # child id -> [Registration]
    offers: list[GridCell] = field(default_factory=list)

    @property
    def editable_keys(self) -> set[str]:
        return {c.key for r in self.rows for c in r.cells if c.editable}

    def cell(self, key: str) -> GridCell | None:
        for row in self.rows:
            for c in row.cells:
                if c.key == key:
                    return c
        return None


def family_children(user) -> list:
    """The children the signed-in account reaches through its legal
    representative (families.models: never through an id alone)."""

    if not user.is_authenticated:
        return []
    return list(
        Child.objects.filter(guardians__user=user)
        .select_related("household")
        .distinct()
        .order_by("birth_date", "id")
    )


def family_children_registered(user, service, years) -> tuple[list, dict]:
    """family_children(user) and their registrations to `service` for the
    school `years` ((child id, year) -> effective status, pending or accepted
    rows only), in ONE query: the booking submission's whole read of the family."""

    if not user.is_authenticated:
        return [], {}
    registrations = Registration.objects.filter(
        child=OuterRef("pk"),
        service=service,
        school_year__in=sorted(years),
        status__in=[Registration.Status.PENDING, Registration.Status.ACCEPTED],
    ).values(row=JSONObject(year="school_year", status="status", demande="demande__status"))
    children = list(
        Child.objects.filter(Exists(Adult.objects.filter(user=user, children=OuterRef("pk"))))
        .select_related("household")
        .annotate(registered=ArraySubquery(registrations))
        .order_by("birth_date", "id")
    )
    found = {}
    for child in children:
        for row in child.registered:
            row = json.loads(row) if isinstance(row, str) else row
            found[(child.pk, row["year"])] = Registration.effective(row["status"], row["demande"])
    return children, found


def family_grid(*, children: list, service, start: date, end: date, now: datetime) -> Grid:
    grid = Grid(service=service, start=start, end=end, children=children)
    child_ids = [c.pk for c in children]
    years = {school_year_of(start), school_year_of(end)}
    regs = [
        r
        for r in Registration.objects.filter(
            child_id__in=child_ids,
            service=service,
            school_year__in=years,
            status__in=[Registration.Status.PENDING, Registration.Status.ACCEPTED],
        )
        .select_related("site", "demande")
        .order_by("-school_year", "id")
        if r.effective_status in (Registration.Status.PENDING, Registration.Status.ACCEPTED)
    ]
    by_child: dict[int, list[Registration]] = defaultdict(list)
    for r in regs:
        by_child[r.child_id].append(r)
    grid.registrations = by_child
    activities = list(
        Activity.objects.filter(service=service, is_active=True)
        .select_related("service", "site")
        .order_by("site__name", "starts_at", "name", "id")
    )
    hourly = is_hourly(service)
    for child in children:
        child_regs = by_child.get(child.pk)
        if not child_regs:
            grid.unregistered.append(child)
            continue
        site_id = next(
            (r.site_id for r in child_regs if r.status == "accepted"), child_regs[0].site_id
        )
        for activity in activities:
            if site_id is not None and activity.site_id != site_id:
                continue
            label = child.first_name + (
                f" {activity.starts_at:%H:%M}" if hourly and activity.starts_at else ""
            )
            grid.tracks.append(Track(len(grid.tracks), child, activity, label))
    if not grid.tracks:
        return grid

    act_ids = {t.activity.pk for t in grid.tracks}
    slots = {
        (s.activity_id, s.day): s
        for s in DaySlot.objects.filter(activity_id__in=act_ids, day__range=(start, end))
    }
    bookings = {
        (b.child_id, b.slot.activity_id, b.slot.day): b
        for b in Booking.objects.filter(
            child_id__in=child_ids,
            slot__activity_id__in=act_ids,
            slot__day__range=(start, end),
            status=Booking.Status.BOOKED,
        ).select_related("slot", "absence")
    }
    entries = {
        (e.child_id, e.slot.activity_id, e.slot.day): e
        for e in WaitingListEntry.objects.filter(
            child_id__in=child_ids,
            slot__activity_id__in=act_ids,
            slot__day__range=(start, end),
            status__in=[WaitingListEntry.Status.WAITING, WaitingListEntry.Status.OFFERED],
        ).select_related("slot")
    }
    rules = selectors.rules_for(service)
    windows = selectors.windows_for(service)
    calendar = selectors.town_calendar()
    holidays = selectors.public_holidays()
    days = sorted({d for (_, d) in slots} | {k[2] for k in bookings})
    accepted = {(r.child_id, r.school_year) for r in regs if r.status == "accepted"}
    pending = {(r.child_id, r.school_year) for r in regs if r.status == "pending"}
    session_starts = {
        d: selectors.session_start_for(rules, d, calendar, service.code) for d in days
    }
    today = now.astimezone(PARIS).date()
    report_from = today - timedelta(days=options_of(service).report_days_after)
    for day in days:
        cells = []
        year = school_year_of(day)
        for track in grid.tracks:
            child, activity = track.child, track.activity
            slot = slots.get((activity.pk, day))
            booking = bookings.get((child.pk, activity.pk, day))
            entry = entries.get((child.pk, activity.pk, day))
            registered = (child.pk, year) in accepted
            state = evaluate_cell(
                day=day,
                now=now,
                rules=rules,
                booked=booking is not None,
                session_start=session_starts[day],
                windows=windows,
                is_open=slot is not None,
                full=slot is not None and slot.booked >= slot.capacity,
                registered=registered,
                service=service.code,
                holidays=holidays,
            )
            cell = _cell(
                track,
                day,
                slot,
                booking,
                entry,
                state,
                registered,
                (child.pk, year) in pending,
                year,
            )
            cell.can_report = (
                booking is not None
                and not state.can_cancel
                and cell.absence is None
                and day >= report_from
            )
            cells.append(cell)
            if entry is not None and entry.status == WaitingListEntry.Status.OFFERED:
                grid.offers.append(cell)
        grid.rows.append(GridRow(day, cells))
    return grid


def _cell(track, day, slot, booking, entry, state: CellState, registered, pending, year):
    text = state.explanation
    if not registered and state.reason is Reason.NOT_REGISTERED and not pending:
        text = f"pas d'inscription pour l'année scolaire {school_year_label(year)}"
    problem = None
    if (
        booking is None
        and slot is not None
        and state.reason not in (Reason.PAST_DAY, Reason.CLOSED)
    ):
        child = track.child
        problem = eligibility_problem(
            activity_eligibility(track.activity),
            birth_date=child.birth_date,
            school_level=getattr(child, "school_class", ""),
            on=day,
        )
    if booking is not None:
        status = "réservé"
        absence = getattr(booking, "absence", None)
        if absence is not None:
            status = "absence signalée"
            text = f"absence signalée — {absence.get_decision_display()}"
        elif booking.from_waiting_list:
            text = f"place obtenue sur liste d'attente — {text}"
        editable = state.can_cancel and absence is None
    elif entry is not None:
        editable = False
        if entry.status == WaitingListEntry.Status.OFFERED:
            status = "place proposée"
            text = f"place proposée jusqu'au {format_datetime(entry.offer_expires_at)}"
        else:
            status = "liste d'attente"
            text = "en liste d'attente : vous serez prévenu(e) par courriel si une place se libère"
    elif problem:
        status, text, editable = "non accessible", problem, False
    elif slot is None:
        status, editable = "fermé", False
    elif state.waiting_list:
        status, editable = "complet", True
    else:
        status = "libre" if state.can_book else "non modifiable"
        editable = state.can_book
    return GridCell(track, day, slot, booking, entry, state, editable, status, text)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


# --- staff ----------------------------------------------------------------------


@dataclass
class OccupancyRow:
    activity: Activity
    cells: list  # one DaySlot (annotated .waiting) or None per day


def occupancy(*, services, start: date, end: date) -> tuple[list[date], list[OccupancyRow]]:
    """Places, booked, remaining and waiting-list length per activity and day
    (one query for the slots, one for the activities)."""
    activities = list(
        Activity.objects.filter(service__in=services, is_active=True)
        .select_related("service", "site")
        .order_by("service__position", "name")
    )
    slots = DaySlot.objects.filter(activity__in=activities, day__range=(start, end)).annotate(
        waiting=Count("waiting_list", filter=Q(waiting_list__status__in=["waiting", "offered"]))
    )
    by_key = {(s.activity_id, s.day): s for s in slots}
    days = sorted({d for (_, d) in by_key})
    rows = [
        OccupancyRow(a, [by_key.get((a.pk, d)) for d in days])
        for a in activities
        if any((a.pk, d) in by_key for d in days)
    ]
    return days, rows
