"""Read path of bookings (town schema). Callers scope `child` to the household first."""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404

from booking.calendar import Closure as ClosureDays
from booking.calendar import TownCalendar
from booking.deadlines import (
    CellState,
    ReservationWindow,
    ServiceDeadlines,
    WeeksBeforeSession,
    evaluate_cell,
    parse_deadlines,
)
from booking.holidays_fr import FRANCE, PublicHolidays, SchoolCalendarUnavailable
from booking.models import (
    Absence,
    Activity,
    Booking,
    Closure,
    DaySlot,
    Registration,
    RegistrationDocument,
    ReservationPeriod,
    WaitingListEntry,
)
from core import town_config
from families.models import Adult


def rules_for(service) -> ServiceDeadlines:
    """The service's deadline rules (validated at onboarding, so they parse),
    parsed once per process for each distinct set of rules."""
    return _parsed_rules(json.dumps(service.deadlines, sort_keys=True))


@functools.lru_cache(maxsize=4096)
def _parsed_rules(deadlines: str) -> ServiceDeadlines:
    return parse_deadlines(json.loads(deadlines))


def town_service(module_code: str, code: str | None = None):
    """The town's active service `code` of a module (None: its first one), or
    None; from the process cache (town_data): no query."""
    for service in town_data().services:
        if service.module == module_code and (not code or service.code == code):
            return service
    return None


def windows_for(service) -> tuple[ReservationWindow, ...]:
    """Reservation periods open to `service` (periods naming no service open all)."""
    return town_data().windows_for(service)


def town_calendar() -> TownCalendar | None:
    """The current town's calendar, from its validated configuration and its
    closures (cached: see town_data)."""
    return town_data().calendar


@dataclass(frozen=True)
class Opening:
    """A period with a waiting room, as configured by the town (booking.waiting_room)."""

    period_id: int
    label: str
    opens_at: datetime
    early_minutes: int
    room_minutes: int
    admit_per_minute: int
    pass_minutes: int
    service_ids: frozenset[int]  # empty: every service

    @property
    def early_from(self) -> datetime:
        return self.opens_at - timedelta(minutes=self.early_minutes)

    def concerns(self, service) -> bool:
        return not self.service_ids or service.pk in self.service_ids


@dataclass(frozen=True)
class _Period:
    window: ReservationWindow  # `services` filled per service by windows_for
    service_ids: frozenset[int]  # empty: every service


@dataclass(frozen=True)
class TownBookingData:
    """What every booking check reads besides the rows it changes: the town's
    reservation periods, its calendar (closures, school holidays) and public
    holidays. Loaded once per town and data version, then kept in the process."""

    periods: tuple[_Period, ...]
    calendar: TownCalendar | None
    holidays: object
    openings: list[Opening] = field(default_factory=list)
    # The town's active services (rows written from its configuration), in order.
    services: tuple = ()

    def windows_for(self, service) -> tuple[ReservationWindow, ...]:
        return tuple(
            replace(p.window, services=frozenset({service.code}))
            for p in self.periods
            if not p.service_ids or service.pk in p.service_ids
        )


# In-process cache of TownBookingData: (schema, config digest, generation) ->
# data. The generation is a counter in the shared cache (Redis), bumped after
# the commit of any change to a period, a closure or a service (signals in
# booking.apps; a new configuration version also changes the digest), so every
# worker reloads; the config digest changes with the town's configuration
# (zone, department). A connection that changed periods or closures in its
# open transaction (the same outermost atomic block) neither reads nor fills
# the cache until that transaction is over (it must see its own uncommitted
# rows; a rollback must leave nothing behind).
_TOWN_DATA: dict[tuple, TownBookingData] = {}
_GENERATION_KEY = "booking:town-data-generation"


# The generation is read from the shared cache at most once a second per town
# and process (a Redis round trip per booking cost ~10 % of book_days, issue
# #19's profile): another process's committed change reaches this one within
# that second (the town's own lookup, portal.routing, is kept 5 s); this
# process's own changes are seen at once (booking_data_changed).
GENERATION_RECHECK_SECONDS = 1.0
_SEEN: dict[str, tuple[float, int]] = {}  # schema -> (re-read after, generation)


def _generation() -> int | None:
    schema = connection.schema_name
    now = time.monotonic()
    seen = _SEEN.get(schema)
    if seen is not None and seen[0] > now:
        return seen[1]
    try:
        value = int(cache.get(_GENERATION_KEY) or 0)
    except Exception:  # noqa: BLE001 - cache down: read the database, never fail a booking
        _SEEN.pop(schema, None)
        return None
    _SEEN[schema] = (now + GENERATION_RECHECK_SECONDS, value)
    return value


def _dirty() -> dict:
    """schema -> the outermost atomic block in which this connection changed
    that town's periods or closures (that transaction is not over yet)."""
    return connection.__dict__.setdefault("_booking_dirty_schemas", {})


def _is_dirty(schema: str) -> bool:
    marker = _dirty().get(schema)
    blocks = getattr(connection, "atomic_blocks", None) or []
    return marker is not None and bool(blocks) and blocks[0] is marker


def booking_data_changed(**_kwargs) -> None:
    """A period, a closure or a service changed in this town: forget this process's copy
    now, and tell every process after the commit."""
    schema = connection.schema_name
    _SEEN.pop(schema, None)
    for key in [k for k in _TOWN_DATA if k[0] == schema]:
        _TOWN_DATA.pop(key, None)
    if connection.in_atomic_block:
        dirty = _dirty()
        dirty[schema] = connection.atomic_blocks[0]
        transaction.on_commit(lambda: (_bump_generation(schema), dirty.pop(schema, None)))
    else:
        _bump_generation(schema)


def _bump_generation(schema: str) -> None:
    _SEEN.pop(schema, None)
    for key in [k for k in _TOWN_DATA if k[0] == schema]:
        _TOWN_DATA.pop(key, None)
    try:
        try:
            cache.incr(_GENERATION_KEY)
        except ValueError:  # no counter yet
            cache.set(_GENERATION_KEY, 1, None)
    except Exception:  # noqa: BLE001 - cache down: the other workers reload at their next miss
        pass


def end_of_request(**_kwargs) -> None:
    """Whatever became of the request's transaction, its changes are over."""
    _dirty().clear()


def town_data() -> TownBookingData:
    tenant = connection.tenant
    schema = connection.schema_name
    generation = _generation()
    cacheable = generation is not None and not _is_dirty(schema)
    key = (schema, getattr(tenant, "config_digest", ""), generation)
    if cacheable and key in _TOWN_DATA:
        return _TOWN_DATA[key]
    data = _load_town_data(tenant)
    if cacheable:
        for old in [k for k in _TOWN_DATA if k[0] == schema]:
            _TOWN_DATA.pop(old, None)
        _TOWN_DATA[key] = data
    return data


def _load_town_data(tenant) -> TownBookingData:
    """Three queries: periods with their services, closures with theirs, the
    town's active services (core.town_config, in the configuration's order)."""
    services = tuple(town_config.services().order_by("position", "id"))
    rows = list(
        ReservationPeriod.objects.annotate(
            service_ids=ArrayAgg("services__id", filter=Q(services__isnull=False))
        ).order_by("opens_at", "id")
    )
    periods = tuple(
        _Period(
            ReservationWindow(
                # A limit is a whole minute (booking.deadlines): 23:59:59 typed by staff is 23:59.
                opens_at=p.opens_at,
                closes_at=p.closes_at.replace(second=0, microsecond=0),
                services=frozenset(),
                first_day=p.first_day,
                last_day=p.last_day,
                label=p.label,
            ),
            frozenset(p.service_ids or ()),
        )
        for p in rows
    )
    calendar = None
    zone = town_config.section(tenant, "school_holiday_zone")
    department = getattr(tenant, "department_code", "") or ""
    if zone:
        closures = [
            ClosureDays(
                c.first_day, c.last_day, c.label, frozenset(s.code for s in c.services.all())
            )
            for c in Closure.objects.prefetch_related("services")
        ]
        try:
            calendar = TownCalendar.for_town(zone=zone, department=department, closures=closures)
        except SchoolCalendarUnavailable:
            calendar = None
    holidays = PublicHolidays.for_department(department) if department else FRANCE
    openings = [
        Opening(
            period_id=p.pk,
            label=p.label,
            opens_at=p.opens_at,
            early_minutes=p.early_minutes,
            room_minutes=p.room_minutes,
            admit_per_minute=p.admit_per_minute,
            pass_minutes=p.pass_minutes,
            service_ids=frozenset(p.service_ids or ()),
        )
        for p in rows
        if p.waiting_room
    ]
    return TownBookingData(periods, calendar, holidays, openings, services)


def family_emails(child_ids) -> dict[int, list[str]]:
    """child id -> the e-mail addresses of its legal representatives (their
    account's address first), in one query."""

    out: dict[int, list[str]] = {}
    adults = (
        Adult.objects.filter(children__in=list(child_ids))
        .select_related("user")
        .values_list("children", "email", "user__email")
    )
    for child_id, email, account_email in adults:
        address = account_email or email
        if address and address not in out.setdefault(child_id, []):
            out[child_id].append(address)
    return out


def public_holidays():
    return town_data().holidays


def session_start_for(
    rules: ServiceDeadlines,
    day: date,
    calendar: TownCalendar | None,
    service_code: str | None = None,
) -> date | None:
    """First day of the holiday session holding `day`, when a rule needs it."""
    if calendar is None or not any(
        isinstance(r, WeeksBeforeSession) for r in (rules.booking, rules.cancellation)
    ):
        return None
    try:
        return calendar.session_start(day, service_code)
    except SchoolCalendarUnavailable:
        return None  # unknown calendar: the day counts as its own session start


@dataclass(frozen=True)
class Cell:
    day: date
    slot: DaySlot | None
    booking: Booking | None
    state: CellState


def calendar_cells(*, child, activity, start: date, end: date, now: datetime) -> list[Cell]:
    """One child's calendar for one activity: each opening day (a day with a
    slot) from start to end, and any booked day, with what the family may do now."""
    service = activity.service
    rules = rules_for(service)
    windows = windows_for(service)
    calendar = town_calendar()
    holidays = public_holidays()
    slots = {s.day: s for s in DaySlot.objects.filter(activity=activity, day__range=(start, end))}
    bookings = {
        b.slot.day: b
        for b in Booking.objects.filter(
            child=child,
            slot__activity=activity,
            slot__day__range=(start, end),
            status=Booking.Status.BOOKED,
        ).select_related("slot")
    }
    cells = []
    for day in sorted(set(slots) | set(bookings)):
        slot = slots.get(day)
        booking = bookings.get(day)
        state = evaluate_cell(
            day=day,
            now=now,
            rules=rules,
            booked=booking is not None,
            session_start=session_start_for(rules, day, calendar, service.code),
            windows=windows,
            is_open=slot is not None,
            full=slot is not None and slot.booked >= slot.capacity,
            service=service.code,
            holidays=holidays,
        )
        cells.append(Cell(day, slot, booking, state))
    return cells


# --- reads of the booking pages (booking/views/) ----------------------------------------
# Family reads take the signed-in account's children (booking.grid.family_children):
# another household's ids find nothing (404). Staff reads are scoped to one module.


def module_services(module_code: str) -> list:
    return list(town_config.services(module=module_code))


def module_activities(module_code: str, *, active_only: bool = False) -> list:
    qs = Activity.objects.filter(service__module=module_code)
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.select_related("service", "site").order_by("service__position", "name"))


def registered_children(children, service) -> list:
    """Those of `children` registered to `service` (one query)."""
    ids = set(
        Registration.objects.filter(child__in=children, service=service).values_list(
            "child_id", flat=True
        )
    )
    return [c for c in children if c.pk in ids]


def family_registrations(children, services) -> list:
    return list(
        Registration.objects.filter(child__in=children, service__in=services)
        .select_related("service", "site", "child", "demande")
        .order_by("-school_year", "id")
    )


def family_waiting_entry(children, module_code: str, entry_id: int):
    return get_object_or_404(
        WaitingListEntry.objects.select_related("slot__activity__service"),
        pk=entry_id,
        child__in=children,
        slot__activity__service__module=module_code,
    )


def family_bookings_around(children, module_code: str, today: date, days: int = 14) -> list:
    """Booked days of the children in the module, `days` before and after today."""
    return list(
        Booking.objects.filter(
            child__in=children,
            status=Booking.Status.BOOKED,
            slot__activity__service__module=module_code,
            slot__day__range=(today - timedelta(days=days), today + timedelta(days=days)),
        )
        .select_related("slot__activity__service", "child", "absence")
        .order_by("slot__day", "id")
    )


def family_older_absences(children, module_code: str, *, exclude, limit: int = 20) -> list:
    return list(
        Absence.objects.filter(
            booking__child__in=children,
            booking__slot__activity__service__module=module_code,
        )
        .exclude(booking__in=exclude)
        .select_related("booking__slot__activity", "booking__child")
        .order_by("-booking__slot__day")[:limit]
    )


def family_booking(children, module_code: str, booking_id: int):
    return get_object_or_404(
        Booking.objects.select_related("slot__activity__service", "child"),
        pk=booking_id,
        child__in=children,
        status=Booking.Status.BOOKED,
        slot__activity__service__module=module_code,
    )


def absence_with_file(module_code: str, absence_id: int, *, children=None):
    """An absence of the module; `children` given (a family): only theirs."""
    qs = Absence.objects.select_related("booking__slot__activity__service").filter(
        pk=absence_id, booking__slot__activity__service__module=module_code
    )
    if children is not None:
        qs = qs.filter(booking__child__in=children)
    return get_object_or_404(qs)


def staff_booking(module_code: str, booking_id: int):
    return get_object_or_404(
        Booking.objects.select_related("child__household", "slot__activity", "absence"),
        pk=booking_id,
        slot__activity__service__module=module_code,
    )


def staff_absence(module_code: str, absence_id: int):
    return get_object_or_404(
        Absence, pk=absence_id, booking__slot__activity__service__module=module_code
    )


def pending_absences(module_code: str, limit: int = 200) -> list:
    return list(
        Absence.objects.filter(
            booking__slot__activity__service__module=module_code,
            decision=Absence.Decision.PENDING,
        )
        .select_related("booking__slot__activity", "booking__child__household")
        .order_by("booking__slot__day", "id")[:limit]
    )


def staff_registration(module_code: str, registration_id: int):
    return get_object_or_404(
        Registration.objects.select_related("demande"),
        pk=registration_id,
        service__module=module_code,
    )


def pending_registrations(module_code: str) -> list:
    return [
        r
        for r in Registration.objects.filter(
            service__module=module_code,
            status=Registration.Status.PENDING,
        )
        .select_related("child__household", "service", "site", "demande")
        .prefetch_related("documents")
        .order_by("created_at", "id")
        if r.effective_status == Registration.Status.PENDING
    ]


def registration_document(module_code: str, document_id: int):
    return get_object_or_404(
        RegistrationDocument, pk=document_id, registration__service__module=module_code
    )


def recent_periods(limit: int = 20):
    return ReservationPeriod.objects.prefetch_related("services").order_by("-opens_at")[:limit]


def recent_closures(limit: int = 20):
    return Closure.objects.prefetch_related("services").order_by("-first_day")[:limit]
