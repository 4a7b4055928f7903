"""Family pages of the booking core: the module's home, the booking grid,
registrations and absences.

Views parse input, call one service, render. Every object is reached through
the signed-in family's children (booking.grid.family_children); another
family's ids answer 404.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from booking import absences as absence_services
from booking import grid as grids
from booking import selectors, waiting_room
from booking.catalogue import is_hourly, options_of
from booking.changes import ChangesRefused, apply_changes
from booking.forms import AbsenceForm, PatternForm, parse_keys
from booking.french import format_date
from booking.models import Registration
from booking.registrations import RegistrationRefused, request_registration, sites_of
from booking.rules import Action, Change, changes_from_grid, mirror_changes, school_year_of
from booking.services import BookingRefused, accept_offer, decline_offer, leave_waiting_list
from booking.views.shared import is_staff_of, service_of, today
from booking.waiting_views import refusal_page
from core.access import FAMILY_OBJECT, GET_POST, MODULE, POST, PUBLIC, SIGNED_IN, access
from core.modules import registry
from documents.selectors import household_of, reusable_documents

GRID_WEEKS = 4


@access(PUBLIC)
def module_home(request, module_code):
    module = registry().get(module_code)
    services = selectors.module_services(module_code)
    return render(
        request,
        [f"{module_code}/module_home.html", "booking/module_home.html"],
        {
            "module": module,
            "services": services,
            "module_code": module_code,
            "is_staff": is_staff_of(request.user, module_code),
        },
    )


# --- the family grid ---------------------------------------------------------------


def _period(request):
    raw = request.GET.get("semaine") or request.POST.get("semaine")
    try:
        start = grids.week_start(date.fromisoformat(raw)) if raw else grids.week_start(today())
    except ValueError:
        start = grids.week_start(today())
    return start, start + timedelta(weeks=GRID_WEEKS) - timedelta(days=1)


def _grid_context(request, module_code, service, services, start, end, children, **extra):
    grid = grids.family_grid(
        children=children, service=service, start=start, end=end, now=timezone.now()
    )
    pattern = extra.pop("pattern_form", None) or PatternForm(
        children=[c for c in children if c not in grid.unregistered],
        initial={"du": max(start, today()), "au": end, "action": "book"},
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
    service, services = service_of(
        module_code, request.GET.get("service") or request.POST.get("service")
    )
    start, end = _period(request)
    children = grids.family_children(request.user)
    if request.method == "POST":
        household_id = children[0].household_id if children else None
        _opening, refusal = waiting_room.gate(request, [service], household_id)
        if refusal is not None:
            return refusal_page(request, refusal)
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
    registered = selectors.registered_children(children, service)
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
    service, _ = service_of(module_code, request.POST.get("service"))
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
    entry = selectors.family_waiting_entry(children, module_code, entry_id)
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
    services = selectors.module_services(module_code)
    day = today()
    years = [school_year_of(day)]
    if day.month >= 5:  # registrations for the next school year open in spring (default)
        years.append(years[0] + 1)
    if request.method == "POST":
        return _submit_registration(request, module_code, children, services, years)
    return render(
        request,
        "booking/registrations.html",
        _registration_context(module_code, children, services, years, user=request.user),
    )


def _stored_choices(user, services) -> dict[str, list]:
    """Document type -> the account's valid stored documents of that type (one query)."""

    kinds = {d.kind for s in services for d in options_of(s).documents if d.kind}
    out: dict[str, list] = {}
    for doc in reusable_documents(household_of(user), kinds, today=today()):
        out.setdefault(doc.kind, []).append(doc)
    return out


def _registration_context(module_code, children, services, years, *, user=None, **extra):
    stored = _stored_choices(user, services) if user is not None else {}
    cards = []
    for s in services:
        opts = options_of(s)
        papers = [{"doc": d, "stored": stored.get(d.kind, [])} for d in opts.documents]
        cards.append({"service": s, "options": opts, "sites": sites_of(s), "papers": papers})
    return {
        "module_code": module_code,
        "module": registry().get(module_code),
        "children": children,
        "cards": cards,
        "years": years,
        "registrations": selectors.family_registrations(children, services),
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
    stored = {
        d.code: request.POST.get(f"stored-{d.code}")
        for d in options_of(service).documents
        if request.POST.get(f"stored-{d.code}", "new") != "new"
    }
    docs = {code: f for code, f in docs.items() if code not in stored}  # the radio decides
    try:
        reg = request_registration(
            child=child,
            service=service,
            school_year=year,
            site=site,
            documents=docs,
            stored=stored,
            user=request.user,
        )
    except RegistrationRefused as exc:
        messages.error(request, str(exc))
        return render(
            request,
            "booking/registrations.html",
            _registration_context(module_code, children, services, years, user=request.user),
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
    day = today()
    bookings = selectors.family_bookings_around(children, module_code, day)
    reported = [b for b in bookings if getattr(b, "absence", None)]
    older = selectors.family_older_absences(children, module_code, exclude=bookings)
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
    booking = selectors.family_booking(children, module_code, booking_id)
    opts = options_of(booking.slot.activity.service)
    documents = []
    if opts.justification != "none":
        documents = list(
            absence_services.absence_documents(
                absence_services.family_household(request.user, booking.child), today=today()
            )[:20]
        )
    form = AbsenceForm(
        request.POST or None,
        request.FILES or None,
        justification=opts.justification,
        documents=documents,
    )
    if request.method == "POST" and form.is_valid():
        stored = form.cleaned_data.get("stored_document") or None
        try:
            absence_services.report_absence(
                booking=booking,
                reason=form.cleaned_data["reason"],
                comment=form.cleaned_data["comment"],
                upload=None if stored else form.cleaned_data.get("justification"),
                stored_document=stored,
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
    staff = is_staff_of(request.user, module_code)
    children = None if staff else grids.family_children(request.user)
    absence = selectors.absence_with_file(module_code, absence_id, children=children)
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
