"""Staff day list and check-in at the door (tablet first), mounted by each
service module under its namespace (booking.urls): `<module>:staff-day`,
`<module>:staff-day-pdf`, `<module>:staff-attendance`.

Health columns only for staff of the service's area holding the health area
(booking.checkin.sees_health); each display is written to the access journal.
Marks carry a client id (booking/static/booking/checkin.js queues them while
offline); without JavaScript each row's form carries an id made here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from booking import checkin
from booking.models import Attendance, Booking
from booking.pdf import day_list_pdf
from booking.services import BookingRefused
from booking.views.staff import _staff, _staff_activity
from core.access import MODULE, POST, STAFF, access
from core.modules import registry


def _activity(request, module_code):
    """The chosen activity (the only one when the module has one)."""
    activity, activities = _staff_activity(request, module_code)
    if activity is None and len(activities) == 1:
        activity = activities[0]
    return activity, activities


def _day(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("jour", ""))
    except ValueError:
        return timezone.localdate()


def _row_context(row, module_code, health):
    return {
        "row": row,
        "b": row.booking,
        "module_code": module_code,
        "health": health,
        "mark_id": uuid.uuid4(),
    }


@access(STAFF(MODULE))
@_staff
def staff_day(request, module_code):
    activity, activities = _activity(request, module_code)
    day = _day(request)
    day_list = checkin.checkin_list(activity=activity, day=day) if activity else None
    health = checkin.sees_health(request.user, module_code)
    if day_list is not None and health and day_list.rows:
        checkin.log_health_display(user=request.user, day_list=day_list, where="liste du jour")
    return render(
        request,
        "booking/staff_checkin.html",
        {
            "module_code": module_code,
            "module": registry().get(module_code),
            "activities": activities,
            "activity": activity,
            "day": day,
            "list": day_list,
            "health": health,
            "rows": [_row_context(r, module_code, health) for r in day_list.rows]
            if day_list
            else [],
        },
    )


@access(STAFF(MODULE), query="activite={activity}")
@_staff
def staff_day_pdf(request, module_code):
    activity, _ = _activity(request, module_code)
    if activity is None:
        raise Http404
    day = _day(request)
    day_list = checkin.checkin_list(activity=activity, day=day)
    health = checkin.sees_health(request.user, module_code)
    if health and day_list.rows:
        checkin.log_health_display(user=request.user, day_list=day_list, where="liste imprimée")
    response = HttpResponse(
        day_list_pdf(day_list, town=request.commune.name, health=health),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="liste-{activity.pk}-{day}.pdf"'
    return response


def _marked_at(raw: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if timezone.is_aware(value) else None


@access(STAFF(MODULE), methods=POST)
@_staff
@require_POST
def staff_attendance(request, module_code, booking_id):
    booking = get_object_or_404(
        Booking.objects.select_related("child__household", "slot__activity", "absence"),
        pk=booking_id,
        slot__activity__service__module=module_code,
    )
    attendance = request.POST.get("attendance", "")
    wants_json = "application/json" in request.headers.get("Accept", "")
    error = ""
    outcome = None
    if attendance not in Attendance.values:
        error = "Pointage inconnu."
    else:
        try:
            outcome = checkin.record_mark(
                booking=booking,
                attendance=attendance,
                mark_id=request.POST.get("mark_id") or uuid.uuid4(),
                actor=request.user,
                marked_at=_marked_at(request.POST.get("marked_at", "")),
            )
        except BookingRefused as exc:
            error = str(exc)
    if wants_json:
        if error:
            return JsonResponse({"detail": error}, status=422)
        return JsonResponse(
            {
                "attendance": outcome.booking.attendance,
                "label": Attendance(outcome.booking.attendance).label,
                "recorded": outcome.recorded,
            }
        )
    if error:
        messages.error(request, error)
    url = reverse(f"{module_code}:staff-day")
    return redirect(
        f"{url}?activite={booking.slot.activity_id}&jour={booking.slot.day}#pointage-{booking.pk}"
    )
