"""Staff acting for a family (a parent phones or comes to the desk): book,
cancel, declare an absence, validate a registration. The family's rules are
the booking core's own (services, absences, registrations): nothing here
re-states a deadline. Staff may go past a deadline, always with a reason; the
family is told by e-mail, and every act is written to the family's history
(who, when, why) in the same transaction."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from booking import absences, registrations
from booking.french import format_date
from booking.models import Activity, Booking, DaySlot, Registration
from booking.services import BookingRefused, DayStatus, book_days, cancel_booking, notify_family
from families import history

EMAIL = "booking/email/staff_change.txt"


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise BookingRefused(
            "Indiquez le motif (appel de la famille, venue au guichet…) : il figure dans "
            "l'historique de la famille et dans le courriel qu'elle reçoit."
        )
    return reason[:1000]


def _history(child, actor, action, summary, reason=""):
    history.record(
        household=child.household_id, actor=actor, action=action, summary=summary, reason=reason
    )


def _tell(child, *, what: str, slot: DaySlot, reason: str, late: bool) -> None:
    notify_family(
        child_id=child.pk,
        template=EMAIL,
        subject=f"{what.capitalize()} par le service : {child.first_name}, {format_date(slot.day)}",
        context={"what": what, "slot": slot, "reason": reason, "late": late},
    )


@transaction.atomic
def book_for_family(
    *, child, activity: Activity, day: date, actor, reason: str, now: datetime | None = None
):
    """Book one day; past the family's deadline too (then `late`). Returns the DayResult."""
    reason = _reason(reason)
    now = now or timezone.now()
    late = False
    with transaction.atomic():
        result = book_days(child=child, activity=activity, days=[day], now=now, created_by=actor)
        outcome = result.days[0]
    if (
        outcome.status is DayStatus.REFUSED
        and DaySlot.objects.filter(activity=activity, day=day).exists()
    ):
        # Only the family's deadline stood in the way: staff may go past it.
        late = True
        outcome = book_days(
            child=child, activity=activity, days=[day], now=now, created_by=actor, staff=True
        ).days[0]
    if outcome.status is not DayStatus.BOOKED:
        raise BookingRefused(f"{format_date(day)} : {outcome.message}.")
    slot = outcome.booking.slot
    what = "réservation hors délai" if late else "réservation"
    _history(
        child,
        actor,
        "booking.book",
        f"{what.capitalize()} de {child.first_name} le {format_date(day)} ({activity.name})",
        reason,
    )
    _tell(child, what=what + " enregistrée", slot=slot, reason=reason, late=late)
    return outcome


@transaction.atomic
def cancel_for_family(*, booking: Booking, actor, reason: str, now: datetime | None = None):
    reason = _reason(reason)
    result = cancel_booking(booking=booking, now=now, staff=True)
    b = result.booking
    child = b.child
    what = "annulation hors délai" if b.cancelled_late else "annulation"
    _history(
        child,
        actor,
        "booking.cancel",
        f"{what.capitalize()} de {child.first_name} le {format_date(b.slot.day)} "
        f"({b.slot.activity.name})"
        + (" : le jour peut rester facturé selon le tarif" if b.cancelled_late else ""),
        reason,
    )
    _tell(child, what=what + " enregistrée", slot=b.slot, reason=reason, late=b.cancelled_late)
    return result


@transaction.atomic
def declare_absence_for_family(
    *, booking: Booking, actor, reason_code: str, comment: str = "", now: datetime | None = None
):
    """The family's own absence rules apply (absences.report_absence); the
    family gets the usual acknowledgement."""
    absence = absences.report_absence(
        booking=booking, reason=reason_code, comment=comment, user=actor, now=now
    )
    child = booking.child
    _history(
        child,
        actor,
        "booking.absence",
        f"Absence de {child.first_name} déclarée pour le {format_date(booking.slot.day)} "
        f"({booking.slot.activity.name}), motif : {absence.get_reason_display()}",
        comment,
    )
    return absence


@transaction.atomic
def validate_registration_for_family(*, registration: Registration, actor, note: str = ""):
    """Through the registrations' own path (its request, its e-mail)."""
    try:
        done = registrations.staff_decide(registration=registration, accept=True, actor=actor)
    except registrations.RegistrationRefused as exc:
        raise BookingRefused(str(exc)) from None
    child = done.child
    _history(
        child,
        actor,
        "booking.registration",
        f"Inscription de {child.first_name} au service « {done.service.name} » "
        f"({done.school_year_label}) validée",
        note,
    )
    return done
