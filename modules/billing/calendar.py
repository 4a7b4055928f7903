"""What billing adds to the family calendar (core.contributions.CalendarEntry):
who pays each booked day of a child of separated parents (« Payé par : foyer
de Michel Lefort »), and the same words for the day's price explanation."""

from __future__ import annotations

from datetime import date

from booking.models import Booking
from core.contributions import CalendarEntry
from families.selectors import children_of

from .models import PayerRule
from .payers import day_payers


def payer_entries(user, start: date, end: date) -> list[tuple[object, str]]:
    """(booking, « foyer de … ») for the booked days between start and end of
    the children this account sees that have a payer rule. Three queries."""

    children = list(children_of(user).filter(pk__in=PayerRule.objects.values("child_id")))
    if not children:
        return []
    bookings = list(
        Booking.objects.filter(
            child__in=children,
            status=Booking.Status.BOOKED,
            slot__day__gte=start,
            slot__day__lte=end,
        ).select_related("slot__activity__service", "created_by__adult")
    )
    payers = day_payers(children, start, end, bookings)
    return [(b, payers[b.pk]) for b in bookings if b.pk in payers]


def family_calendar_entries(request, household, start: date, end: date) -> list:
    out = []
    for booking, payer in payer_entries(request.user, start, end):
        text = f"Payé par : {payer}"
        out.append(
            CalendarEntry(
                child_id=booking.child_id,
                day=booking.slot.day,
                service_label=booking.slot.activity.service.name,
                state="payer",
                state_label=text,
                detail=text,
                price_explanation=(
                    f"{text}, au tarif de ce foyer (son quotient familial, ses enfants)."
                ),
                order=900,
            )
        )
    return out
