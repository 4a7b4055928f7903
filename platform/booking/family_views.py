"""The family space's booking pages (/<town>/mon-espace/reservations/, /absences/):
one calendar per child or for all children across services, the basket of
changes, weekly patterns, "apply to my other children", absences over a period.

Plain forms first (everything works without JavaScript); htmx only refreshes
the basket in place. Children are always the signed-in account's own
(booking.grid.family_children); calendar lines come from the enabled modules
through the registry (core.contributions.family_calendar_entries).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from booking import absence_periods, basket, family_space, waiting_room
from booking import absences as absence_services
from booking.forms import AbsencePeriodForm, FamilyPatternForm, iso_date_input
from booking.french import PARIS, format_date
from booking.models import AbsenceDeclaration, Activity, Registration
from booking.rules import Action, Change, mirror_changes
from booking.services import BookingRefused
from booking.waiting_views import refusal_page
from core.access import FAMILY_PAGE, GET_POST, POST, access
from core.contributions import family_calendar_entries
from families.selectors import household_of


def family_page(view):
    """A signed-in family account (staff and unlinked accounts: 404)."""

    @wraps(view)
    @login_required
    @never_cache
    def wrapped(request, *args, **kwargs):
        request.household = household_of(request.user)
        return view(request, *args, **kwargs)

    return wrapped


def _today() -> date:
    return timezone.now().astimezone(PARIS).date()


def _session_basket(request) -> list[Change]:
    return basket.parse_keys(request.session.get(basket.SESSION_KEY, []))


def _save_basket(request, changes) -> None:
    request.session[basket.SESSION_KEY] = [basket.change_key(c) for c in changes]


def _anchor(raw: str | None) -> date:
    try:
        return date.fromisoformat(raw) if raw else _today()
    except ValueError:
        return _today()


def _calendar_url(request, **override) -> str:
    params = {
        "vue": request.POST.get("vue") or request.GET.get("vue") or "",
        "date": request.POST.get("date") or request.GET.get("date") or "",
        "enfant": request.POST.get("enfant") or request.GET.get("enfant") or "",
        **override,
    }
    query = "&".join(f"{k}={v}" for k, v in params.items() if v)
    return reverse("famille-reservations:calendar") + (f"?{query}" if query else "")


def _calendar_context(request, *, pattern_form=None):
    children = family_space.children_of(request)
    view = "semaine" if request.GET.get("vue") == "semaine" else "mois"
    anchor = _anchor(request.GET.get("date"))
    start, end = family_space.period(view, anchor)
    chosen = request.GET.get("enfant", "")
    shown_children = [c for c in children if str(c.pk) == chosen] or children
    entries = family_calendar_entries(request, request.household, start, end)
    in_basket = {
        f"{c.child_id}:{c.activity_id}:{c.day.isoformat()}": c for c in _session_basket(request)
    }
    current = basket.read_basket(
        _session_basket(request),
        children={c.pk: c for c in children},
        household=request.household,
    )
    services = family_space.services_of(family_space.booking_modules(request))
    if view == "semaine":
        previous, following = start - timedelta(days=7), start + timedelta(days=7)
    else:
        previous = (start - timedelta(days=1)).replace(day=1)
        following = end + timedelta(days=1)
    return {
        "children": children,
        "shown_children": shown_children,
        "chosen": chosen,
        "view": view,
        "start": start,
        "end": end,
        "anchor": anchor,
        "previous": previous,
        "following": following,
        "days": [
            (
                day,
                [(child, [_line(e, in_basket) for e in lines]) for child, lines in kids],
            )
            for day, kids in family_space.by_day(entries, shown_children)
        ],
        "in_basket": in_basket,
        "basket": current,
        "copy_sources": _copy_sources(current, children),
        "pattern_form": pattern_form
        or FamilyPatternForm(
            children=children,
            services=services,
            initial={
                "du": max(start, _today()),
                "au": end,
                "action": "book",
                "enfants": [c.pk for c in shown_children],
            },
        ),
        "services": services,
        "today": _today(),
    }


def _line(entry, in_basket) -> dict:
    """One calendar line and its tick: checked when booked and not being
    cancelled, or free and being booked (the basket's pending change)."""
    key = getattr(entry, "key", "")
    pending = in_basket.get(key)
    booked = getattr(entry, "booked", False)
    return {
        "e": entry,
        "pending": pending,
        "checked": (booked and pending is None) or (not booked and pending is not None),
    }


@access(FAMILY_PAGE)
@family_page
def calendar(request):
    """Month or week, one child or all: each day, every service with its state,
    the why/until-when text and this family's price; ticking fills the basket."""
    return render(request, "booking/family/calendar.html", _calendar_context(request))


@access(FAMILY_PAGE, methods=POST)
@family_page
@require_POST
def basket_update(request):
    """The ticks of the shown days go into the basket: a shown editable day
    ticked and not booked is a booking, booked and unticked a cancellation."""
    children = family_space.children_of(request)
    ids = {c.pk for c in children}
    ticked = set(request.POST.getlist("cell"))
    shown = request.POST.getlist("shown")  # "key|booked" for each editable day shown
    wanted, dropped = [], []
    for raw in shown:
        key, _, booked = raw.partition("|")
        parts = key.split(":")
        change = basket.parse_key(f"{key}:book") if len(parts) == 3 else None
        if change is None or change.child_id not in ids:
            continue
        is_booked = booked == "1"
        if key in ticked and not is_booked:
            wanted.append(change)
        elif key not in ticked and is_booked:
            wanted.append(Change(change.child_id, change.activity_id, change.day, Action.CANCEL))
        else:  # back to its current state: nothing to do for that day
            dropped += [
                change,
                Change(change.child_id, change.activity_id, change.day, Action.CANCEL),
            ]
    _save_basket(request, basket.toggle(_session_basket(request), wanted, dropped))
    if request.headers.get("HX-Request"):
        return _basket_fragment(request, children)
    messages.info(request, "Panier mis à jour : vérifiez le total puis confirmez.")
    return redirect(_calendar_url(request) + "#panier")


def _basket_fragment(request, children):
    current = basket.read_basket(
        _session_basket(request), children={c.pk: c for c in children}, household=request.household
    )
    return render(
        request,
        "booking/family/_basket.html",
        {"basket": current, "children": children, "copy_sources": _copy_sources(current, children)},
    )


def _copy_sources(current, children) -> list:
    """Children with changes in the basket: each gets a copy box offering the
    OTHER children only (never the child it copies from)."""
    ids = {line.change.child_id for line in current.lines}
    return [c for c in children if c.pk in ids]


@access(FAMILY_PAGE, methods=POST)
@family_page
@require_POST
def basket_remove(request):
    change = basket.parse_key(request.POST.get("ligne", ""))
    if change is not None:
        _save_basket(request, basket.toggle(_session_basket(request), [], [change]))
    return redirect(_calendar_url(request) + "#panier")


@access(FAMILY_PAGE, methods=POST)
@family_page
@require_POST
def basket_confirm(request):
    """ONE confirmation for the whole basket, applied all-or-nothing per service."""
    children = family_space.children_of(request)
    changes = _session_basket(request)
    if not changes:
        messages.info(request, "Votre panier est vide.")
        return redirect(_calendar_url(request))
    if waiting_room.openings():  # an opening's waiting room: the basket is kept as it is
        _opening, refusal = waiting_room.gate(
            request, basket.services_of(changes), request.household.pk
        )
        if refusal is not None:
            return refusal_page(request, refusal)
    outcomes = basket.confirm_basket(
        children={c.pk: c for c in children},
        changes=changes,
        user=request.user,
        household=request.household,
        join_waiting_list=bool(request.POST.get("liste_attente")),
    )
    _save_basket(request, basket.remaining(changes, outcomes))
    for o in outcomes:
        if o.ok:
            a = o.applied
            parts = []
            if a.booked:
                parts.append(f"{len(a.booked)} jour(s) réservé(s)")
            if a.cancelled:
                parts.append(f"{len(a.cancelled)} jour(s) annulé(s)")
            if a.waiting:
                parts.append(f"{len(a.waiting)} demande(s) en liste d'attente")
            messages.success(
                request,
                f"{o.service.name} : "
                + (", ".join(parts) or "rien à changer")
                + ". Un accusé de réception vous est envoyé par courriel.",
            )
        else:
            messages.error(
                request,
                f"{o.service.name} : {o.refused.detail} Ces jours restent dans votre panier.",
            )
    return redirect(_calendar_url(request))


@access(FAMILY_PAGE, methods=POST)
@family_page
@require_POST
def basket_pattern(request):
    """Weekly pattern → basket (only days that can change; the others are listed)."""
    children = family_space.children_of(request)
    services = family_space.services_of(family_space.booking_modules(request))
    form = FamilyPatternForm(request.POST, children=children, services=services)
    if not form.is_valid():
        ctx = _calendar_context(request, pattern_form=form)
        return render(request, "booking/family/calendar.html", ctx, status=422)
    d = form.cleaned_data
    action = Action(d["action"])
    chosen_children = [c for c in children if c.pk in set(d["enfants"])]
    entries = family_calendar_entries(request, request.household, d["du"], d["au"])
    wanted, skipped = [], []
    for e in entries:
        if (
            e.child_id not in {c.pk for c in chosen_children}
            or getattr(e, "service_code", "") not in set(d["services"])
            or e.day.weekday() not in set(d["jours"])
            or e.booked == (action is Action.BOOK)
        ):
            continue
        if e.editable:
            change = basket.parse_key(f"{e.key}:{action}")
            if change is not None:
                wanted.append(change)
        else:
            skipped.append(f"{format_date(e.day)} ({e.service_label}) : {e.detail}")
    if wanted:
        _save_basket(request, basket.toggle(_session_basket(request), wanted))
        messages.success(request, f"{len(wanted)} jour(s) ajouté(s) au panier.")
    else:
        messages.error(request, "Aucun jour ne peut être modifié avec ce choix.")
    if skipped:
        messages.info(
            request, "Jours non modifiables, laissés tels quels : " + " ; ".join(skipped[:8])
        )
    return redirect(_calendar_url(request) + "#panier")


@access(FAMILY_PAGE, methods=POST)
@family_page
@require_POST
def basket_copy(request):
    """« Appliquer aussi à mes autres enfants »: the basket's changes of one child
    repeated for the chosen other children, on the same service."""
    children = family_space.children_of(request)
    ids = {c.pk for c in children}
    source = request.POST.get("source", "")
    targets = {int(t) for t in request.POST.getlist("vers") if t.isdigit()} & ids
    if not source.isdigit() or int(source) not in ids or not targets - {int(source)}:
        messages.error(request, "Choisissez au moins un autre enfant.")
        return redirect(_calendar_url(request) + "#panier")
    source = int(source)
    current = _session_basket(request)

    activity_ids = {c.activity_id for c in current if c.child_id == source}
    activities = {a.pk: a for a in Activity.objects.filter(pk__in=activity_ids)}
    siblings = Activity.objects.filter(
        service_id__in={a.service_id for a in activities.values()}, is_active=True
    )
    sites = dict(
        Registration.objects.filter(
            child_id__in=targets, status__in=["accepted", "pending"]
        ).values_list("child_id", "site_id")
    )
    mapping = {}
    for child_id in targets - {source}:
        mapping[child_id] = {
            a.pk: s.pk
            for a in activities.values()
            for s in siblings
            if s.service_id == a.service_id
            and s.starts_at == a.starts_at
            and (sites.get(child_id) is None or s.site_id == sites.get(child_id))
        }
    copied = mirror_changes(current, source_child=source, targets=mapping)
    _save_basket(request, basket.toggle([], copied))
    messages.success(request, f"{len(copied) - len(current)} jour(s) ajouté(s) au panier.")
    return redirect(_calendar_url(request) + "#panier")


# --- absences over a period -----------------------------------------------------------------


@access(FAMILY_PAGE, methods=GET_POST)
@family_page
def absences(request):
    """Step 1: which child, from when to when (GET). Step 2: the booked days
    with what billing will do, the reason (no default), one file (POST)."""
    children = family_space.children_of(request)
    data = request.POST if request.method == "POST" else request.GET
    child = next((c for c in children if str(c.pk) == data.get("enfant")), None)
    first, last = _date(data.get("du")), _date(data.get("au"))
    plan = problem = None
    form = AbsencePeriodForm(request.POST or None, request.FILES or None)
    if child is not None and (first or last):
        problem = absence_periods.period_problem(first, last)
        if problem is None:
            plan = absence_periods.plan_absence(
                child=child, first=first, last=last, reason=data.get("reason", "")
            )
    stored_docs = []
    if plan is not None and plan.takes_justification:
        stored_docs = list(
            absence_services.absence_documents(
                absence_services.family_household(request.user, child), today=_today()
            )[:20]
        )
    chosen = request.POST.get("justificatif_enregistre", "new")
    if request.method == "POST" and plan is not None and form.is_valid():
        d = form.cleaned_data
        try:
            done = absence_periods.declare_absence(
                child=child,
                first=first,
                last=last,
                reason=d["reason"],
                comment=d["comment"],
                upload=d.get("justification") if chosen == "new" else None,
                stored_document=None if chosen == "new" else chosen,
                user=request.user,
            )
        except BookingRefused as exc:
            form.add_error(None, str(exc))
        else:
            parts = []
            if done.absences:
                parts.append(f"{len(done.absences)} jour(s) d'absence signalé(s)")
            if done.cancelled:
                parts.append(f"{len(done.cancelled)} jour(s) annulé(s) sans frais")
            messages.success(
                request,
                f"Absence de {child.first_name} enregistrée : {', '.join(parts)}. "
                "Un accusé de réception vous est envoyé par courriel.",
            )
            return redirect("famille-reservations:absences")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "booking/family/absences.html",
        {
            "children": children,
            "child": child,
            "first": first,
            "last": last,
            "plan": plan,
            "problem": problem,
            "form": form,
            "stored_docs": stored_docs,
            "chosen": chosen,
            "date_widget": iso_date_input(),
            "declarations": _recent_declarations(children),
        },
        status=status,
    )


def _date(raw):
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _recent_declarations(children):
    return list(
        AbsenceDeclaration.objects.filter(child__in=children)
        .select_related("child")
        .prefetch_related("absences__booking__slot__activity__service")[:10]
    )
