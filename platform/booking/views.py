"""Family and staff pages of the booking core, mounted by each service module
(modules/<code>/urls.py via booking.urls.module_patterns): the module's URL
namespace gates them per town (portal.routing.ModuleGateMiddleware).

Views parse input, call one service, render. Every object is reached through
the signed-in family's children (booking.grid.family_children) or the staff
member's service area; another family's ids answer 404.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import staff_required
from booking import absences as absence_services
from booking import grid as grids
from booking.catalogue import is_hourly, options_of
from booking.changes import ChangesRefused, apply_changes
from booking.forms import (
    AbsenceForm,
    CapacityForm,
    DecisionForm,
    OpenDaysForm,
    PatternForm,
    parse_keys,
)
from booking.french import PARIS, format_date
from booking.models import Absence, Activity, Booking, Registration, WaitingListEntry
from booking.registrations import RegistrationRefused, request_registration, sites_of
from booking.rules import Action, Change, changes_from_grid, mirror_changes, school_year_of
from booking.services import BookingRefused, accept_offer, decline_offer, leave_waiting_list
from core.access import (
    FAMILY_OBJECT,
    GET_POST,
    MODULE,
    POST,
    PUBLIC,
    SIGNED_IN,
    STAFF,
    access,
)
from core.models import Service
from core.modules import registry

GRID_WEEKS = 4


def _services(module_code):
    return list(Service.objects.filter(module=module_code, is_active=True))


def _service(module_code, code):
    services = _services(module_code)
    if not services:
        raise Http404("Aucun service de ce module dans la commune.")
    if not code:
        return services[0], services
    for s in services:
        if s.code == code:
            return s, services
    raise Http404("Service inconnu.")


def _today():
    return timezone.now().astimezone(PARIS).date()


def _is_staff(user, module_code):
    return user.is_authenticated and user.is_town_staff and user.works_in(module_code)


@access(PUBLIC)
def module_home(request, module_code):
    module = registry().get(module_code)
    services = _services(module_code)
    return render(
        request,
        [f"{module_code}/module_home.html", "booking/module_home.html"],
        {
            "module": module,
            "services": services,
            "module_code": module_code,
            "is_staff": _is_staff(request.user, module_code),
        },
    )


# --- the family grid ---------------------------------------------------------------


def _period(request):
    raw = request.GET.get("semaine") or request.POST.get("semaine")
    try:
        start = grids.week_start(date.fromisoformat(raw)) if raw else grids.week_start(_today())
    except ValueError:
        start = grids.week_start(_today())
    return start, start + timedelta(weeks=GRID_WEEKS) - timedelta(days=1)


def _grid_context(request, module_code, service, services, start, end, children, **extra):
    grid = grids.family_grid(
        children=children, service=service, start=start, end=end, now=timezone.now()
    )
    pattern = extra.pop("pattern_form", None) or PatternForm(
        children=[c for c in children if c not in grid.unregistered],
        initial={"du": max(start, _today()), "au": end, "action": "book"},
    )
    return {
        "module_code": module_code,
        "module": registry().get(module_code),
        "service": service,
        "services": services,
        "grid": grid,
        "start": start,
        "end": end,
        "previous": start - timedelta(weeks=GRID_WEEKS),
        "next": start + timedelta(weeks=GRID_WEEKS),
        "pattern_form": pattern,
        "hourly": is_hourly(service),
        "registered_children": [c for c in children if c not in grid.unregistered],
        **extra,
    }


@access(SIGNED_IN, methods=GET_POST)  # the account's own children (staff: none)
@never_cache
@login_required
def grid_view(request, module_code):
    service, services = _service(
        module_code, request.GET.get("service") or request.POST.get("service")
    )
    start, end = _period(request)
    children = grids.family_children(request.user)
    if request.method == "POST":
        if request.POST.get("pattern"):
            return _submit_pattern(request, module_code, service, services, start, end, children)
        return _submit_grid(request, module_code, service, services, start, end, children)
    return render(
        request,
        "booking/grid.html",
        _grid_context(request, module_code, service, services, start, end, children),
    )


def _grid_changes(request, service, start, end, children):
    grid = grids.family_grid(
        children=children, service=service, start=start, end=end, now=timezone.now()
    )
    booked = {
        (c.track.child.pk, c.track.activity.pk, c.day)
        for r in grid.rows
        for c in r.cells
        if c.booking is not None
    }
    ticked = parse_keys(request.POST.getlist("cell"))
    shown = parse_keys(request.POST.getlist("shown"))
    changes = changes_from_grid(booked=booked, ticked=ticked, shown=shown)
    source = request.POST.get("copie_de")
    targets = {int(t) for t in request.POST.getlist("copie_vers") if t.isdigit()}
    if source and source.isdigit() and targets:
        source = int(source)
        src_tracks = [t for t in grid.tracks if t.child.pk == source]
        mapping = {}
        for child_id in targets - {source}:
            tracks = [t for t in grid.tracks if t.child.pk == child_id]
            mapping[child_id] = {
                s.activity.pk: t.activity.pk
                for s in src_tracks
                for t in tracks
                if s.activity.starts_at == t.activity.starts_at
            }
        changes = mirror_changes(changes, source_child=source, targets=mapping)
    return changes, ticked


def _apply(request, service, children, changes, join):
    household = children[0].household if children else None
    return apply_changes(
        children={c.pk: c for c in children},
        service=service,
        changes=changes,
        user=request.user,
        household=household,
        join_waiting_list=join,
    )


def _success_message(request, result, skipped=()):
    parts = []
    if result.booked:
        parts.append(f"{len(result.booked)} jour(s) réservé(s)")
    if result.cancelled:
        parts.append(f"{len(result.cancelled)} jour(s) annulé(s)")
    if result.waiting:
        parts.append(f"{len(result.waiting)} demande(s) en liste d'attente")
    if parts:
        messages.success(
            request,
            "Modifications enregistrées : "
            + ", ".join(parts)
            + ". Un accusé de réception vous est envoyé par courriel.",
        )
    else:
        messages.info(request, "Aucune modification à enregistrer.")
    if skipped:
        messages.info(request, "Jours non modifiables, laissés tels quels : " + " ; ".join(skipped))


def _redirect_grid(module_code, service, start):
    url = reverse(f"{module_code}:grid")
    return redirect(f"{url}?service={service.code}&semaine={start.isoformat()}")


def _submit_grid(request, module_code, service, services, start, end, children):
    changes, ticked = _grid_changes(request, service, start, end, children)
    join = bool(request.POST.get("liste_attente"))
    try:
        result = _apply(request, service, children, changes, join)
    except ChangesRefused as exc:
        ctx = _grid_context(
            request,
            module_code,
            service,
            services,
            start,
            end,
            children,
            refused=exc,
            posted={f"{c}:{a}:{d.isoformat()}" for c, a, d in ticked},
            error_keys={e.key for e in exc.errors},
        )
        return render(request, "booking/grid.html", ctx, status=422)
    _success_message(request, result)
    return _redirect_grid(module_code, service, start)


def _submit_pattern(request, module_code, service, services, start, end, children):
    registered = [
        c for c in children if Registration.objects.filter(child=c, service=service).exists()
    ]
    form = PatternForm(request.POST, children=registered)
    if not form.is_valid():
        ctx = _grid_context(
            request, module_code, service, services, start, end, children, pattern_form=form
        )
        return render(request, "booking/grid.html", ctx, status=422)
    d = form.cleaned_data
    action = Action(d["action"])
    chosen = [c for c in children if c.pk in set(d["enfants"])]
    period = grids.family_grid(
        children=chosen, service=service, start=d["du"], end=d["au"], now=timezone.now()
    )
    weekdays = set(d["jours"])
    changes, skipped = [], []
    for row in period.rows:
        if row.day.weekday() not in weekdays:
            continue
        for cell in row.cells:
            if cell.slot is None or cell.checked == (action is Action.BOOK):
                continue
            if cell.editable:
                changes.append(Change(cell.track.child.pk, cell.track.activity.pk, row.day, action))
            else:
                skipped.append(f"{cell.track.label}, {format_date(row.day)} : {cell.text}")
    if not changes:
        messages.error(
            request,
            "Aucun jour ne peut être modifié avec ce choix."
            + (" " + " ; ".join(skipped[:10]) if skipped else ""),
        )
        ctx = _grid_context(
            request, module_code, service, services, start, end, children, pattern_form=form
        )
        return render(request, "booking/grid.html", ctx, status=422)
    try:
        result = _apply(request, service, children, changes, d["liste_attente"])
    except ChangesRefused as exc:
        ctx = _grid_context(
            request,
            module_code,
            service,
            services,
            start,
            end,
            children,
            pattern_form=form,
            refused=exc,
        )
        return render(request, "booking/grid.html", ctx, status=422)
    _success_message(request, result, skipped[:10])
    return _redirect_grid(module_code, service, start)


@access(SIGNED_IN, methods=POST)
@login_required
@require_POST
def grid_preview(request, module_code):
    """htmx: what the ticked grid would change, checked by a dry run (rolled back)."""
    service, _ = _service(module_code, request.POST.get("service"))
    start, end = _period(request)
    children = grids.family_children(request.user)
    changes, _ = _grid_changes(request, service, start, end, children)
    refused = None
    names = {c.pk: c.first_name for c in children}
    try:
        with transaction.atomic():
            _apply_dry(service, children, changes, bool(request.POST.get("liste_attente")))
            transaction.set_rollback(True)
    except ChangesRefused as exc:
        refused = exc
    lines = [(names.get(c.child_id, "?"), c.day, c.action) for c in changes]
    return render(request, "booking/_preview.html", {"lines": lines, "refused": refused})


def _apply_dry(service, children, changes, join):
    apply_changes(
        children={c.pk: c for c in children},
        service=service,
        changes=changes,
        join_waiting_list=join,
    )


@access(FAMILY_OBJECT, methods=POST)
@login_required
@require_POST
def waiting_action(request, module_code, entry_id):
    children = grids.family_children(request.user)
    entry = get_object_or_404(
        WaitingListEntry.objects.select_related("slot__activity__service"),
        pk=entry_id,
        child__in=children,
        slot__activity__service__module=module_code,
    )
    action = request.POST.get("action")
    try:
        if action == "accepter":
            accept_offer(entry=entry)
            messages.success(request, "Place acceptée : la réservation est confirmée.")
        elif action == "refuser":
            decline_offer(entry=entry)
            messages.info(
                request, "Proposition refusée : la place est proposée à la famille suivante."
            )
        else:
            leave_waiting_list(entry=entry)
            messages.info(request, "Demande retirée de la liste d'attente.")
    except BookingRefused as exc:
        messages.error(request, str(exc))
    service = entry.slot.activity.service
    return _redirect_grid(module_code, service, grids.week_start(entry.slot.day))


# --- registrations -----------------------------------------------------------------


@access(SIGNED_IN, methods=GET_POST)
@never_cache
@login_required
def registrations_view(request, module_code):
    children = grids.family_children(request.user)
    services = _services(module_code)
    today = _today()
    years = [school_year_of(today)]
    if today.month >= 5:  # registrations for the next school year open in spring (default)
        years.append(years[0] + 1)
    if request.method == "POST":
        return _submit_registration(request, module_code, children, services, years)
    return render(
        request,
        "booking/registrations.html",
        _registration_context(module_code, children, services, years),
    )


def _registration_context(module_code, children, services, years, **extra):
    regs = (
        Registration.objects.filter(child__in=children, service__in=services)
        .select_related("service", "site", "child", "demande")
        .order_by("-school_year", "id")
    )
    cards = []
    for s in services:
        opts = options_of(s)
        cards.append({"service": s, "options": opts, "sites": sites_of(s)})
    return {
        "module_code": module_code,
        "module": registry().get(module_code),
        "children": children,
        "cards": cards,
        "years": years,
        "registrations": list(regs),
        **extra,
    }


def _submit_registration(request, module_code, children, services, years):
    by_id = {c.pk: c for c in children}
    service = next((s for s in services if s.code == request.POST.get("service")), None)
    child = (
        by_id.get(int(request.POST["enfant"])) if request.POST.get("enfant", "").isdigit() else None
    )
    try:
        year = int(request.POST.get("annee", ""))
    except ValueError:
        year = None
    if service is None or child is None or year not in years:
        messages.error(request, "Choisissez un enfant, un service et une année scolaire.")
        return redirect(reverse(f"{module_code}:registrations"))
    site = None
    site_id = request.POST.get("lieu", "")
    if site_id.isdigit():
        site = next((x for x in sites_of(service) if x.pk == int(site_id)), None)
    docs = {
        d.code: request.FILES.get(f"doc-{d.code}")
        for d in options_of(service).documents
        if request.FILES.get(f"doc-{d.code}")
    }
    try:
        reg = request_registration(
            child=child,
            service=service,
            school_year=year,
            site=site,
            documents=docs,
            user=request.user,
        )
    except RegistrationRefused as exc:
        messages.error(request, str(exc))
        return render(
            request,
            "booking/registrations.html",
            _registration_context(module_code, children, services, years),
            status=422,
        )
    if reg.status == Registration.Status.ACCEPTED:
        messages.success(
            request,
            f"{child.first_name} est inscrit(e) : {service.name} "
            f"({reg.school_year_label}). Vous pouvez réserver.",
        )
    else:
        messages.success(
            request,
            "Demande d'inscription envoyée. Le service va l'examiner ; "
            "les réservations ouvriront après sa validation (courriel).",
        )
    return redirect(reverse(f"{module_code}:registrations"))


# --- absences ----------------------------------------------------------------------


@access(SIGNED_IN)
@never_cache
@login_required
def absences_view(request, module_code):
    children = grids.family_children(request.user)
    today = _today()
    bookings = list(
        Booking.objects.filter(
            child__in=children,
            status=Booking.Status.BOOKED,
            slot__activity__service__module=module_code,
            slot__day__range=(today - timedelta(days=14), today + timedelta(days=14)),
        )
        .select_related("slot__activity__service", "child", "absence")
        .order_by("slot__day", "id")
    )
    reported = [b for b in bookings if getattr(b, "absence", None)]
    older = list(
        Absence.objects.filter(
            booking__child__in=children,
            booking__slot__activity__service__module=module_code,
        )
        .exclude(booking__in=bookings)
        .select_related("booking__slot__activity", "booking__child")
        .order_by("-booking__slot__day")[:20]
    )
    return render(
        request,
        "booking/absences.html",
        {
            "module_code": module_code,
            "module": registry().get(module_code),
            "bookings": [b for b in bookings if not getattr(b, "absence", None)],
            "reported": reported + older,
        },
    )


@access(FAMILY_OBJECT, methods=GET_POST)
@never_cache
@login_required
def absence_report(request, module_code, booking_id):
    children = grids.family_children(request.user)
    booking = get_object_or_404(
        Booking.objects.select_related("slot__activity__service", "child"),
        pk=booking_id,
        child__in=children,
        status=Booking.Status.BOOKED,
        slot__activity__service__module=module_code,
    )
    opts = options_of(booking.slot.activity.service)
    form = AbsenceForm(
        request.POST or None, request.FILES or None, justification=opts.justification
    )
    if request.method == "POST" and form.is_valid():
        try:
            absence_services.report_absence(
                booking=booking,
                reason=form.cleaned_data["reason"],
                comment=form.cleaned_data["comment"],
                upload=form.cleaned_data.get("justification"),
                user=request.user,
            )
        except BookingRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                "Absence signalée : le service va l'examiner. "
                "Un accusé de réception vous est envoyé par courriel.",
            )
            return redirect(reverse(f"{module_code}:absences"))
    return render(
        request,
        "booking/absence_form.html",
        {
            "module_code": module_code,
            "module": registry().get(module_code),
            "booking": booking,
            "form": form,
            "options": opts,
        },
        status=422 if request.method == "POST" else 200,
    )


@access(FAMILY_OBJECT, area=MODULE, staff="ok", agent_other_area="not_found")
@login_required
def absence_file(request, module_code, absence_id):
    """The justification, to its family or to the service's staff, as a download."""
    qs = Absence.objects.select_related("booking__slot__activity__service").filter(
        pk=absence_id, booking__slot__activity__service__module=module_code
    )
    if not _is_staff(request.user, module_code):
        qs = qs.filter(booking__child__in=grids.family_children(request.user))
    absence = get_object_or_404(qs)
    if not absence.justification:
        raise Http404
    response = FileResponse(
        absence.justification.open("rb"),
        as_attachment=True,
        filename=absence.justification_name or "justificatif",
        content_type=absence.justification_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


# --- staff -------------------------------------------------------------------------


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
    start = _date_param(request, "du", _today())
    end = _date_param(request, "au", start + timedelta(days=13))
    if end < start or (end - start).days > 62:
        end = start + timedelta(days=13)
    services = _services(module_code)
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
    activities = list(
        Activity.objects.filter(service__module=module_code, is_active=True)
        .select_related("service", "site")
        .order_by("service__position", "name")
    )
    raw = request.GET.get("activite", "")
    activity = next((a for a in activities if raw.isdigit() and a.pk == int(raw)), None)
    return activity, activities


@access(STAFF(MODULE), query="activite={activity}")
@_staff
def staff_day_csv(request, module_code):
    import csv

    activity, _ = _staff_activity(request, module_code)
    if activity is None:
        raise Http404
    day = _date_param(request, "jour", _today())
    day_list = grids.staff_day_list(activity=activity, day=day)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="liste-{activity.pk}-{day}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with accents correctly
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        ["Nom", "Prénom", "Foyer", "Pointage", "Absence signalée", "Issu de la liste d'attente"]
    )
    for b in day_list.bookings:
        absence = getattr(b, "absence", None)
        writer.writerow(
            [
                b.child.last_name,
                b.child.first_name,
                b.child.household.name,
                b.get_attendance_display(),
                absence.get_decision_display() if absence else "",
                "oui" if b.from_waiting_list else "",
            ]
        )
    return response


@access(STAFF(MODULE), methods=GET_POST)
@_staff
def staff_absences(request, module_code):
    if request.method == "POST":
        absence = get_object_or_404(
            Absence,
            pk=_posted_id(request, "absence"),
            booking__slot__activity__service__module=module_code,
        )
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
    pending = (
        Absence.objects.filter(
            booking__slot__activity__service__module=module_code,
            decision=Absence.Decision.PENDING,
        )
        .select_related("booking__slot__activity", "booking__child__household")
        .order_by("booking__slot__day", "id")
    )
    return render(
        request,
        "booking/staff_absences.html",
        {
            "module_code": module_code,
            "module": registry().get(module_code),
            "pending": list(pending[:200]),
        },
    )


def _can_edit_catalogue(user) -> bool:
    """Places, periods and closures: the service's managers and the town's admins."""
    return user.role in (user.Role.MANAGER, user.Role.TOWN_ADMIN)


@access(STAFF(MODULE), methods=GET_POST)
@_staff
def staff_catalogue(request, module_code):
    """Places per day, opened days, reservation periods and closures of the module."""
    from booking.catalogue import activity_day_kinds
    from booking.forms import ClosureForm, PeriodForm
    from booking.models import Closure, ReservationPeriod
    from booking.selectors import town_calendar
    from booking.services import (
        add_closure,
        add_reservation_period,
        open_days,
        set_capacity,
        set_eligibility,
    )

    services = _services(module_code)
    activities = list(
        Activity.objects.filter(service__module=module_code)
        .select_related("service", "site")
        .order_by("service__position", "name")
    )
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
                    calendar = town_calendar()
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
    periods = ReservationPeriod.objects.prefetch_related("services").order_by("-opens_at")[:20]
    closures = Closure.objects.prefetch_related("services").order_by("-first_day")[:20]
    return render(
        request,
        "booking/staff_catalogue.html",
        {
            "module_code": module_code,
            "module": registry().get(module_code),
            "activities": activities,
            "today": _today(),
            "periods": periods,
            "closures": closures,
            "period_form": period_form,
            "closure_form": closure_form,
            "can_edit": _can_edit_catalogue(request.user),
        },
        status=422 if request.method == "POST" else 200,
    )


@access(STAFF(MODULE), methods=GET_POST)
@_staff
def staff_registrations(request, module_code):
    """Registrations waiting for the service's validation, with their documents."""
    from booking.registrations import staff_decide

    if request.method == "POST":
        registration = get_object_or_404(
            Registration.objects.select_related("demande"),
            pk=_posted_id(request, "inscription"),
            service__module=module_code,
        )
        accept = request.POST.get("decision") == "accept"
        try:
            staff_decide(
                registration=registration,
                accept=accept,
                actor=request.user,
                message=request.POST.get("message", ""),
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
    pending = [
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
    return render(
        request,
        "booking/staff_registrations.html",
        {"module_code": module_code, "module": registry().get(module_code), "pending": pending},
    )


@access(STAFF(MODULE))
@_staff
def staff_registration_document(request, module_code, document_id):
    from booking.models import RegistrationDocument

    doc = get_object_or_404(
        RegistrationDocument, pk=document_id, registration__service__module=module_code
    )
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
