"""The family space's view of the booking core: one calendar per child (or for
all children) across every service, the next booked days and the next deadline
of the dashboard. Read-only; writes go through booking.basket and
booking.absence_periods.

The booking core is shared by the service modules (periscolaire, alsh,
petite_enfance): each module contributes the calendar lines of ITS services
through its AppConfig (`family_calendar_entries`, calling `calendar_entries`
with its module code), so a town that switches a module off loses its lines.
Queries: a constant number per service (booking.grid.family_grid), whatever
the number of children, days or months.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from booking import grid as grids
from booking.french import PARIS, format_date, format_datetime
from core import town_config
from core.contributions import CalendarEntry, DashboardCard, NavEntry
from core.day_prices import DayQuery, day_prices
from core.modules import registry

NEXT_DAYS_HORIZON = 21  # the dashboard looks three weeks ahead


@dataclass(frozen=True)
class BookingCalendarEntry(CalendarEntry):
    """A calendar line of a booking service, with what the basket needs."""

    key: str = ""  # "child:activity:YYYY-MM-DD" (booking.basket)
    booked: bool = False
    editable: bool = False
    full: bool = False
    can_report: bool = False
    service_code: str = ""
    module_code: str = ""
    book_until: datetime | None = None


def booking_modules(request) -> list[str]:
    """Enabled modules of the town that offer bookable service kinds."""
    enabled = set(town_config.enabled_modules(getattr(request, "commune", None)))
    return [code for code, cfg in registry().items() if cfg.service_kinds and code in enabled]


def services_of(module_codes) -> list:
    return list(town_config.services(modules=module_codes))


def children_of(request) -> list:
    return grids.family_children(request.user)


def _state(cell) -> str:
    if cell.booking is not None:
        return "absent" if cell.absence is not None else "booked"
    if cell.slot is None:
        return "closed"
    if cell.entry is not None:
        return "waiting"
    return "free" if cell.editable else "locked"


def calendar_entries(
    *, module_code: str, children, household, start: date, end: date, now=None
) -> list[BookingCalendarEntry]:
    """Every day of every service of `module_code` for `children`, priced."""

    now = now or timezone.now()
    cells = []
    for service in services_of([module_code]):
        g = grids.family_grid(children=children, service=service, start=start, end=end, now=now)
        for row in g.rows:
            for cell in row.cells:
                if cell.slot is None and cell.booking is None:
                    continue  # closed that day: not a line
                cells.append((service, cell))
    queries = {
        id(cell): DayQuery(cell.track.child.pk, service.code, cell.day) for service, cell in cells
    }
    prices = day_prices(household, queries.values()) if household is not None else {}
    out = []
    for service, cell in cells:
        price = prices.get(queries[id(cell)])
        label = service.name
        if cell.track.activity.starts_at:
            label = f"{service.name} {cell.track.activity.starts_at:%H:%M}"
        out.append(
            BookingCalendarEntry(
                child_id=cell.track.child.pk,
                day=cell.day,
                service_label=label,
                state=_state(cell),
                state_label=cell.status,
                detail=cell.text,
                price=price.amount if price else None,
                price_explanation=price.explanation if price else "",
                order=service.position,
                key=cell.key,
                booked=cell.booking is not None,
                editable=cell.editable,
                full=cell.full,
                can_report=cell.can_report,
                service_code=service.code,
                module_code=module_code,
                book_until=cell.state.book_until,
            )
        )
    return out


# --- pure helpers of the dashboard and the calendar ------------------------------------------


def period(view: str, anchor: date) -> tuple[date, date]:
    """'semaine': Monday to Sunday of `anchor`; anything else: its month."""
    if view == "semaine":
        start = anchor - timedelta(days=anchor.weekday())
        return start, start + timedelta(days=6)
    start = anchor.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def by_day(entries, children) -> list[tuple[date, list[tuple[object, list]]]]:
    """[(day, [(child, [entries of that child that day])])], days in order."""
    names = {c.pk: c for c in children}
    days: dict[date, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for e in entries:
        if e.child_id in names:
            days[e.day][e.child_id].append(e)
    return [
        (d, [(names[c.pk], days[d][c.pk]) for c in children if days[d].get(c.pk)])
        for d in sorted(days)
    ]


def next_booked_days(entries, children, *, today: date, per_child: int = 3):
    """For each child, its next booked days with all services together:
    [(child, [(day, "cantine, garderie du soir")])]."""
    out = []
    for child in children:
        days: dict[date, list[str]] = defaultdict(list)
        for e in entries:
            if e.child_id == child.pk and e.booked and e.day >= today and e.state != "absent":
                days[e.day].append(e.service_label)
        out.append((child, [(d, ", ".join(days[d])) for d in sorted(days)[:per_child]]))
    return out


def next_deadline(entries, *, now: datetime) -> str | None:
    """The first limit to book a free day ("réservez la Restauration scolaire du
    lundi 14 décembre avant le jeudi 10 décembre 2026 à 23:59"), or None."""
    candidates = [
        e
        for e in entries
        if not e.booked and e.editable and e.book_until is not None and e.book_until >= now
    ]
    if not candidates:
        return None
    first = min(candidates, key=lambda e: (e.book_until, e.day))
    return (
        f"Réservez « {first.service_label} » du {format_date(first.day)} avant le "
        f"{format_datetime(first.book_until)}."
    )


# --- the booking core's contributions (read by core.contributions) ------------------------


def family_nav(request) -> list[NavEntry]:
    if not booking_modules(request):
        return []
    return [
        NavEntry(
            "Réservations",
            "famille-reservations:calendar",
            20,
            match="famille-reservations:calendar",
        ),
        NavEntry(
            "Absences", "famille-reservations:absences", 30, match="famille-reservations:absences"
        ),
    ]


def family_dashboard_cards(request, household) -> list[DashboardCard]:
    modules = booking_modules(request)
    if not modules or household is None:
        return []
    children = children_of(request)
    now = timezone.now()
    today = now.astimezone(PARIS).date()
    entries = [
        e
        for code in modules
        for e in calendar_entries(
            module_code=code,
            children=children,
            household=household,
            start=today,
            end=today + timedelta(days=NEXT_DAYS_HORIZON),
            now=now,
        )
    ]
    entries.sort(key=lambda e: (e.day, e.order))
    return [
        DashboardCard(
            "booking/family/_card_next_days.html",
            order=10,
            context={
                "next_days": next_booked_days(entries, children, today=today),
                "deadline": next_deadline(entries, now=now),
            },
        ),
        DashboardCard(
            "booking/family/_card_registrations.html",
            order=60,
            context={"open_registrations": open_registrations(modules)},
        ),
    ]


def open_registrations(modules) -> list[dict]:
    """Services of the enabled modules a family may register to, with the URL
    of the module's registration page (reversed in the module's namespace)."""

    out = []
    for service in services_of(modules):
        try:
            url = reverse(f"{service.module}:registrations")
        except NoReverseMatch:
            continue
        out.append({"name": service.name, "url": url})
    return out
