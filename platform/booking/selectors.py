"""Read path of bookings (town schema). Callers scope `child` to the household first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import Q

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
from booking.models import Booking, DaySlot, ReservationPeriod


def rules_for(service) -> ServiceDeadlines:
    """The service's deadline rules (validated at onboarding, so they parse)."""
    return parse_deadlines(service.deadlines)


def windows_for(service) -> tuple[ReservationWindow, ...]:
    """Reservation periods open to `service` (periods naming no service open all)."""
    periods = ReservationPeriod.objects.filter(Q(services=None) | Q(services=service)).distinct()
    return tuple(
        ReservationWindow(
            # A limit is a whole minute (booking.deadlines): 23:59:59 typed by staff is 23:59.
            opens_at=p.opens_at,
            closes_at=p.closes_at.replace(second=0, microsecond=0),
            services=frozenset({service.code}),
            first_day=p.first_day,
            last_day=p.last_day,
            label=p.label,
        )
        for p in periods
    )


def town_calendar() -> TownCalendar | None:
    """The current town's calendar, from its validated configuration and its
    closures (one query)."""
    from booking.calendar import Closure as ClosureDays
    from booking.models import Closure

    config = getattr(connection.tenant, "config", None) or {}
    zone = config.get("school_holiday_zone")
    department = (config.get("department") or {}).get("code", "")
    if not zone:
        return None
    closures = [
        ClosureDays(c.first_day, c.last_day, c.label, frozenset(s.code for s in c.services.all()))
        for c in Closure.objects.prefetch_related("services")
    ]
    try:
        return TownCalendar.for_town(zone=zone, department=department, closures=closures)
    except SchoolCalendarUnavailable:
        return None


def family_emails(child_ids) -> dict[int, list[str]]:
    """child id -> the e-mail addresses of its legal representatives (their
    account's address first), in one query."""
    from families.models import Adult

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
    config = getattr(connection.tenant, "config", None) or {}
    code = (config.get("department") or {}).get("code")
    return PublicHolidays.for_department(code) if code else FRANCE


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
