"""The waiting room's pages (booking.waiting_room), under /<town>/file-attente/:
reachable before sign-in; the status fragment (polled by htmx every few
seconds, or the whole page by a meta refresh without JavaScript) reads only
its signed cookies and Redis: no database query."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.views.decorators.cache import never_cache

from accounts.middleware import account_free
from booking import waiting_room as wr
from core.access import PUBLIC, access
from families.models import Adult


def _opening(period_id: int) -> wr.Opening:
    o = wr.opening(period_id)
    if o is None:
        raise Http404("Pas de file d'attente pour cette ouverture.")
    return o


def _household_of(request) -> int | None:
    """The signed-in family's household (loads the session and the account:
    only when the visitor joins or signs in, never while polling)."""

    user = request.user
    if not user.is_authenticated:
        return None
    return Adult.objects.filter(user=user).values_list("household_id", flat=True).first()


def _cookie(response, name: str, value: str, max_age: int) -> None:
    """The room's cookies travel only under the town's path."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=get_script_prefix(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _context(request, o: wr.Opening, place: wr.Place | None, *, household_id, when):
    before = when < o.opens_at
    closed = when >= wr.room_end(o)
    signed_in = household_id is not None
    if closed or place is None or (signed_in and place.admitted and not before):
        poll = None  # nothing more to wait for on this page
    elif not signed_in and not before:
        poll = wr.MAX_POLL_SECONDS  # signing in is what comes next
    else:
        poll = wr.poll_seconds(place, (o.opens_at - when).total_seconds())
    return {
        "opening": o,
        "place": place,
        "before": before,
        "closed": closed,
        "signed_in": signed_in,
        "wait": wr.wait_text(place.wait_seconds) if place else "",
        "poll": poll,
        "refresh": (poll or wr.MAX_POLL_SECONDS) + 5,
        "status_url": reverse("file-attente:status", args=[o.period_id]),
        "queue_url": reverse("file-attente:queue", args=[o.period_id]),
        "login_url": reverse("accounts:login")
        + "?next="
        + reverse("file-attente:queue", args=[o.period_id]),
        "book_url": reverse("famille-reservations:calendar"),
    }


def _admit(response, request, o, place, household_id, when) -> None:
    """An admitted, signed-in household gets (again) its pass: valid from its
    FIRST admission, bound to this session, this town and this opening."""
    session = wr.session_hash(request)
    if place is None or not place.admitted or household_id is None or not session:
        return
    admitted_ms = wr.Room(o).admit(household_id, when)
    _cookie(
        response,
        wr.PASS_COOKIE.format(pid=o.period_id),
        wr.issue_pass(o, household_id, admitted_ms, session),
        o.pass_minutes * 60,
    )


def refusal_page(request, refusal: wr.Refusal):
    """A booking page's answer without a pass (429) or without Redis (503)."""
    response = render(
        request, "booking/waiting_required.html", {"refusal": refusal}, status=refusal.status
    )
    response["Retry-After"] = "30" if refusal.status == 429 else "120"
    return response


def _unavailable(request, o):
    response = render(
        request,
        "booking/waiting_unavailable.html",
        {"opening": o, "detail": wr.UNAVAILABLE},
        status=503,
    )
    response["Retry-After"] = "120"
    return response


@access(PUBLIC, period_id="opening")
@never_cache
def queue(request, period_id: int):
    """Take (or find again) a place in the opening's queue."""
    o = _opening(period_id)
    when = wr.now()
    ticket = wr.read_ticket(request, o)
    session = wr.session_hash(request)
    if ticket and ticket.get("h") and ticket.get("k") == session:
        household_id = ticket["h"]
    else:
        household_id = _household_of(request) if session else None
    try:
        place = wr.Room(o).join((ticket or {}).get("t") or wr.new_ticket(), household_id, when)
        context = _context(request, o, place, household_id=household_id, when=when)
    except wr.RoomUnavailable:
        return _unavailable(request, o)
    response = render(request, "booking/waiting_room.html", context)
    _cookie(
        response,
        wr.TICKET_COOKIE.format(pid=o.period_id),
        wr.sign_ticket(o, place.ticket, household_id, session),
        2 * 24 * 3600,
    )
    try:
        _admit(response, request, o, place, household_id, when)
    except wr.RoomUnavailable:
        return _unavailable(request, o)
    return response


@access(PUBLIC, period_id="opening")
@account_free
@never_cache
def status(request, period_id: int):
    """The place, the wait and what to do: the fragment htmx polls."""
    o = _opening(period_id)
    when = wr.now()
    ticket = wr.read_ticket(request, o)
    session = wr.session_hash(request)
    household_id = ticket.get("h") if ticket and ticket.get("k") == session else None
    try:
        place = wr.Room(o).place(ticket["t"], when) if ticket else None
        context = _context(request, o, place, household_id=household_id, when=when)
    except wr.RoomUnavailable:
        return _unavailable(request, o)
    response = render(request, "booking/_waiting_status.html", context)
    try:
        _admit(response, request, o, place, household_id, when)
    except wr.RoomUnavailable:
        return _unavailable(request, o)
    return response
