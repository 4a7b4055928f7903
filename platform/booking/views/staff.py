"""Staff pages of the booking core, per module: occupancy, day lists
(HTML, CSV, PDF), attendance, absence decisions, catalogue, registrations.

Every page needs a staff member of the module's area (`staff_required`);
objects are looked up within the module (booking.selectors).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from accounts.permissions import staff_required
from booking import absences as absence_services
from booking import grid as grids
from booking import selectors, waiting_room
from booking.catalogue import activity_day_kinds
from booking.checkin import checkin_list
from booking.forms import (
    CapacityForm,
    ClosureForm,
    DecisionForm,
    OpenDaysForm,
    PeriodForm,
)
from booking.registrations import RegistrationRefused, eligibility_problem_at, staff_decide
from booking.services import (
    BookingRefused,
    add_closure,
    add_reservation_period,
    open_days,
    set_capacity,
    set_eligibility,
)
from booking.views.shared import today
from core.access import GET_POST, MODULE, STAFF, access
from core.exports import spreadsheet_response
from core.modules import registry

DAY_LIST_COLUMNS = [
    "Nom",
    "Prénom",
    "Foyer",
    "Pointage",
    "Absence signalée",
    "Issu de la liste d'attente",
]


def _staff(view):
    def wrapped(request, module_code, *args, **kwargs):
        return staff_required(module_code)(view)(request, module_code, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return never_cache(wrapped)


def _date_param(request, name, default):
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return default


@access(STAFF(MODULE))
@_staff
def staff_occupancy(request, module_code):
    start = _date_param(request, "du", today())
    end = _date_param(request, "au", start + timedelta(days=13))
    if end < start or (end - start).days > 62:
        end = start + timedelta(days=13)
    services = selectors.module_services(module_code)
    days, rows = grids.occupancy(services=services, start=start, end=end)
    return render(
        request,
        "booking/staff_occupancy.html",
        {
            "module_code": module_code,
            "module": registry().get(module_code),
            "days": days,
            "rows": rows,
            "start": start,
            "end": end,
        },
    )


def _staff_activity(request, module_code):
    activities = selectors.module_activities(module_code, active_only=True)
    raw = request.GET.get("activite", "")
    activity = next((a for a in activities if raw.isdigit() and a.pk == int(raw)), None)
    return activity, activities


@access(STAFF(MODULE), query="activite={activity}")
@_staff
def staff_day_csv(request, module_code):
    activity, _ = _staff_activity(request, module_code)
    if activity is None:
        raise Http404
    day = _date_param(request, "jour", today())
    day_list = checkin_list(activity=activity, day=day)
    rows = (
        [
            b.child.last_name,
            b.child.first_name,
            b.child.household.name,
            b.get_attendance_display(),
            b.absence.get_decision_display() if getattr(b, "absence", None) else "",
            "oui" if b.from_waiting_list else "",
        ]
        for b in (row.booking for row in day_list.rows)
    )
    return spreadsheet_response(DAY_LIST_COLUMNS, rows, filename=f"liste-{activity.pk}-{day}")


@access(STAFF(MODULE), methods=GET_POST)
@_staff
def staff_absences(request, module_code):
    if request.method == "POST":
        absence = selectors.staff_absence(module_code, _posted_id(request, "absence"))
        form = DecisionForm(request.POST)
        if form.is_valid():
            try:
                absence_services.decide_absence(
                    absence=absence,
                    decision=form.cleaned_data["decision"],
                    comment=form.cleaned_data["comment"],
                    actor=request.user,
                )
                messages.success(request, "Décision enregistrée ; la famille est prévenue.")
            except BookingRefused as exc:
                messages.error(request, str(exc))
        return redirect(reverse(f"{module_code}:staff-absences"))
    return render(
        request,
        "booking/staff_absences.html",
        {
            "module_code": module_code,
            "module": registry().get(module_code),
            "pending": selectors.pending_absences(module_code),
        },
    )


def _can_edit_catalogue(user) -> bool:
    """Places, periods and closures: the service's managers and the town's admins."""
    return user.role in (user.Role.MANAGER, user.Role.TOWN_ADMIN)


@access(STAFF(MODULE), methods=GET_POST)
@_staff
def staff_catalogue(request, module_code):
    """Places per day, opened days, reservation periods and closures of the module."""
    services = selectors.module_services(module_code)
    activities = selectors.module_activities(module_code)
    period_form, closure_form = PeriodForm(services=services), ClosureForm(services=services)
    if request.method == "POST":
        if not _can_edit_catalogue(request.user):
            raise PermissionDenied
        what = request.POST.get("what")
        chosen = lambda codes: [s for s in services if s.code in set(codes)]  # noqa: E731
        try:
            if what in ("capacity", "open"):
                raw = request.POST.get("activite", "")
                activity = next((a for a in activities if raw.isdigit() and a.pk == int(raw)), None)
                if activity is None:
                    raise Http404
                if what == "capacity":
                    form = CapacityForm(request.POST)
                    if not form.is_valid():
                        raise BookingRefused("Nombre de places invalide.")
                    set_capacity(activity=activity, capacity=form.cleaned_data["capacity"])
                    set_eligibility(
                        activity=activity,
                        min_age_months=form.cleaned_data["min_age_months"],
                        max_age_months=form.cleaned_data["max_age_months"],
                    )
                    messages.success(
                        request,
                        f"{activity.name} : places par jour et âges "
                        "modifiés (places : pour les journées ouvertes "
                        "ensuite).",
                    )
                else:
                    form = OpenDaysForm(request.POST)
                    calendar = selectors.town_calendar()
                    if not form.is_valid() or calendar is None:
                        raise BookingRefused("Période invalide.")
                    created = open_days(
                        activity=activity,
                        calendar=calendar,
                        start=form.cleaned_data["du"],
                        end=form.cleaned_data["au"],
                        kinds=activity_day_kinds(activity),
                    )
                    messages.success(request, f"{activity.name} : {created} journée(s) ouverte(s).")
                return redirect(reverse(f"{module_code}:staff-catalogue"))
            if what == "period":
                period_form = PeriodForm(request.POST, services=services)
                if period_form.is_valid():
                    d = period_form.cleaned_data
                    add_reservation_period(
                        label=d["label"],
                        opens_at=d["opens_at"],
                        closes_at=d["closes_at"],
                        first_day=d["first_day"],
                        last_day=d["last_day"],
                        services=chosen(d["services"]),
                        waiting_room=d["waiting_room"],
                        early_minutes=d["early_minutes"],
                        room_minutes=d["room_minutes"],
                        admit_per_minute=d["admit_per_minute"],
                        pass_minutes=d["pass_minutes"],
                    )
                    messages.success(request, "Période de réservation publiée.")
                    return redirect(reverse(f"{module_code}:staff-catalogue"))
            elif what == "closure":
                closure_form = ClosureForm(request.POST, services=services)
                if closure_form.is_valid():
                    d = closure_form.cleaned_data
                    _, removed, kept = add_closure(
                        label=d["label"],
                        first_day=d["first_day"],
                        last_day=d["last_day"],
                        services=chosen(d["services"]),
                    )
                    messages.success(
                        request,
                        f"Fermeture enregistrée : {removed} journée(s) ouverte(s) retirée(s).",
                    )
                    if kept:
                        messages.warning(
                            request,
                            f"{kept} journée(s) ont déjà des réservations : "
                            "traitez-les depuis la liste du jour.",
                        )
                    return redirect(reverse(f"{module_code}:staff-catalogue"))
        except BookingRefused as exc:
            messages.error(request, str(exc))
            return redirect(reverse(f"{module_code}:staff-catalogue"))
    periods = selectors.recent_periods()
    closures = selectors.recent_closures()
    return render(
        request,
        "booking/staff_catalogue.html",
        {
            "module_code": module_code,
            "module": registry().get(module_code),
            "activities": activities,
            "today": today(),
            "periods": periods,
            "closures": closures,
            "period_form": period_form,
            "closure_form": closure_form,
            "can_edit": _can_edit_catalogue(request.user),
        },
        status=422 if request.method == "POST" else 200,
    )


@access(STAFF(MODULE), methods=GET_POST, period_id="opening")
@_staff
def staff_opening(request, module_code, period_id):
    """An opening's waiting room, live: waiting, admitted, served, admission
    rate; pause, resume, extend. The figures refresh themselves (htmx)."""
    opening = waiting_room.opening(period_id)
    if opening is None:
        raise Http404("Pas de salle d'attente pour cette période.")
    room = waiting_room.Room(opening)
    now = waiting_room.now()
    try:
        if request.method == "POST":
            if not _can_edit_catalogue(request.user):
                raise PermissionDenied
            action = request.POST.get("action")
            if action in ("pause", "reprendre"):
                room.set_paused(action == "pause", now)
                messages.success(
                    request,
                    "Entrées suspendues : les familles gardent leur place."
                    if action == "pause"
                    else "Entrées reprises.",
                )
            elif action == "prolonger":
                extra = room.extend(15)
                messages.success(
                    request, f"Salle d'attente prolongée : {extra} minutes de plus en tout."
                )
            return redirect(reverse(f"{module_code}:staff-opening", args=[period_id]))
        figures = room.figures(now)
        end = waiting_room.room_end(opening, room)
    except waiting_room.RoomUnavailable:
        figures, end = None, None
    template = (
        "booking/_staff_opening_figures.html"
        if request.headers.get("HX-Request")
        else "booking/staff_opening.html"
    )
    return render(
        request,
        template,
        {
            "module_code": module_code,
            "module": registry().get(module_code),
            "opening": opening,
            "figures": figures,
            "end": end,
            "now": now,
            "can_edit": _can_edit_catalogue(request.user),
            "queue_url": reverse("file-attente:queue", args=[period_id]),
        },
        status=200 if figures is not None else 503,
    )


@access(STAFF(MODULE), methods=GET_POST)
@_staff
def staff_registrations(request, module_code):
    """Registrations waiting for the service's validation, with their documents."""
    if request.method == "POST":
        registration = selectors.staff_registration(module_code, _posted_id(request, "inscription"))
        accept = request.POST.get("decision") == "accept"
        try:
            staff_decide(
                registration=registration,
                accept=accept,
                actor=request.user,
                message=request.POST.get("message", ""),
                override_reason=request.POST.get("derogation", ""),
            )
            messages.success(
                request,
                "Inscription validée ; la famille est prévenue."
                if accept
                else "Inscription refusée ; la famille est prévenue.",
            )
        except RegistrationRefused as exc:
            messages.error(request, str(exc))
        return redirect(reverse(f"{module_code}:staff-registrations"))
    pending = selectors.pending_registrations(module_code)
    activities = {}  # one query per service and site, whatever the number of children
    for r in pending:
        r.eligibility = eligibility_problem_at(
            child=r.child,
            service=r.service,
            site=r.site,
            school_year=r.school_year,
            activities=activities,
        )
    return render(
        request,
        "booking/staff_registrations.html",
        {"module_code": module_code, "module": registry().get(module_code), "pending": pending},
    )


@access(STAFF(MODULE))
@_staff
def staff_registration_document(request, module_code, document_id):
    doc = selectors.registration_document(module_code, document_id)
    response = FileResponse(
        doc.file.open("rb"),
        as_attachment=True,
        filename=doc.original_name,
        content_type=doc.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _posted_id(request, name: str) -> int:
    """The id a staff form posts (a hidden field): 0, found nowhere (404), when
    it is missing or not a number, rather than a server error."""
    raw = request.POST.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else 0
