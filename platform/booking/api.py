"""Reservation API of a module (mounted by each module's api_urls under its own
namespace: /<commune>/api/<module>/reservations/). Errors are RFC 9457 problem
documents with a French `detail` (core.api); a refused submission saves nothing."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import OperationalError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsFamily
from booking import grid as grids
from booking import selectors, waiting_room
from booking.changes import ChangesRefused, apply_changes
from booking.forms import change_list
from booking.french import PARIS
from booking.rules import school_year_of
from core.access import FAMILY_API, access
from core.api import problem

_CHANGE = inline_serializer(
    "Change",
    {
        "child": serializers.IntegerField(),
        "activity": serializers.IntegerField(),
        "day": serializers.DateField(),
        "action": serializers.ChoiceField(["book", "cancel"]),
    },
)


_CELL = inline_serializer(
    "GridCell",
    {
        "child": serializers.IntegerField(),
        "activity": serializers.IntegerField(),
        "booked": serializers.BooleanField(),
        "status": serializers.CharField(),
        "editable": serializers.BooleanField(),
        "can_book": serializers.BooleanField(),
        "can_cancel": serializers.BooleanField(),
        "waiting_list": serializers.BooleanField(),
        "reason": serializers.CharField(),
        "explanation": serializers.CharField(),
    },
)
_GRID = inline_serializer(
    "Grid",
    {
        "service": serializers.CharField(),
        "tracks": inline_serializer(
            "Track",
            {
                "child": serializers.IntegerField(),
                "child_name": serializers.CharField(),
                "activity": serializers.IntegerField(),
                "activity_name": serializers.CharField(),
            },
            many=True,
        ),
        "days": inline_serializer(
            "GridDay",
            {"day": serializers.DateField(), "cells": _CELL.__class__(many=True)},
            many=True,
        ),
    },
)
_BOOKING = inline_serializer(
    "BookedDay",
    {
        "id": serializers.IntegerField(),
        "child": serializers.IntegerField(),
        "activity": serializers.IntegerField(),
        "day": serializers.DateField(),
    },
)
_APPLIED = inline_serializer(
    "ChangesApplied",
    {
        "booked": _BOOKING.__class__(many=True),
        "cancelled": _BOOKING.__class__(many=True),
        "waiting_list": _CHANGE.__class__(many=True),
        "unchanged": serializers.IntegerField(),
        "receipt": serializers.IntegerField(allow_null=True),
    },
)


@access(FAMILY_API)
class ReservationsView(APIView):
    """A family's reservations for one service: read the grid, submit changes."""

    permission_classes = [IsFamily]
    module_code = ""

    def _service(self, code):
        # The town's services (core.town_config) from the process cache (selectors.town_data).
        service = selectors.town_service(self.module_code, code)
        if service is None:
            raise Http404("Service inconnu pour ce module.")
        return service

    @extend_schema(
        parameters=[
            OpenApiParameter("service", str),
            OpenApiParameter("du", date),
            OpenApiParameter("au", date),
        ],
        responses=_GRID,
    )
    def get(self, request):
        service = self._service(request.query_params.get("service"))
        today = timezone.now().astimezone(PARIS).date()
        try:
            start = date.fromisoformat(request.query_params.get("du") or today.isoformat())
            end = date.fromisoformat(
                request.query_params.get("au") or (start + timedelta(days=27)).isoformat()
            )
        except ValueError:
            return problem(400, "Dates attendues au format AAAA-MM-JJ (du, au).")
        if end < start or (end - start).days > 92:
            return problem(400, "Choisissez une période de 93 jours au plus (du <= au).")
        grid = grids.family_grid(
            children=grids.family_children(request.user),
            service=service,
            start=start,
            end=end,
            now=timezone.now(),
        )
        return Response(
            {
                "service": service.code,
                "tracks": [
                    {
                        "child": t.child.pk,
                        "child_name": t.child.first_name,
                        "activity": t.activity.pk,
                        "activity_name": t.activity.name,
                    }
                    for t in grid.tracks
                ],
                "days": [
                    {
                        "day": row.day,
                        "cells": [
                            {
                                "child": c.track.child.pk,
                                "activity": c.track.activity.pk,
                                "booked": c.checked,
                                "status": c.status,
                                "editable": c.editable,
                                "can_book": c.state.can_book,
                                "can_cancel": c.state.can_cancel,
                                "waiting_list": c.state.waiting_list,
                                "reason": c.state.reason.value,
                                "explanation": c.text,
                            }
                            for c in row.cells
                        ],
                    }
                    for row in grid.rows
                ],
            }
        )

    @extend_schema(
        request=inline_serializer(
            "ChangesRequest",
            {
                "service": serializers.CharField(),
                "changes": _CHANGE.__class__(many=True),
                "waiting_list": serializers.BooleanField(required=False),
            },
        ),
        responses=_APPLIED,
    )
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        service = self._service(data.get("service"))
        changes, problems = change_list(data.get("changes"))
        if problems:
            return problem(400, "Certaines modifications sont mal formées.", errors=problems)
        if not changes:
            return problem(400, "Aucune modification demandée.")
        if len(changes) > 500:
            return problem(400, "500 modifications au plus par envoi.")
        # The family's children and their registrations to the service: ONE query.
        children, registrations = grids.family_children_registered(
            request.user, service, {school_year_of(c.day) for c in changes}
        )
        household = children[0].household if children else None
        started = waiting_room.monotonic()
        opening, refusal = waiting_room.gate(
            request, [service], household.pk if household else None
        )
        if refusal is not None:  # the opening's waiting room: nothing is read or saved
            response = problem(
                refusal.status,
                refusal.detail,
                title="File d'attente de l'ouverture",
                queue=request.build_absolute_uri(refusal.queue_url),
            )
            response["Retry-After"] = "30" if refusal.status == 429 else "120"
            return response
        try:
            result = apply_changes(
                children={c.pk: c for c in children},
                service=service,
                changes=changes,
                user=request.user,
                household=household,
                join_waiting_list=bool(data.get("waiting_list")),
                registrations=registrations,
            )
        except ChangesRefused as exc:
            status = 409 if exc.only_full else 422
            return problem(
                status,
                exc.detail,
                title="Modification refusée",
                errors=[
                    {
                        "child": e.change.child_id,
                        "activity": e.change.activity_id,
                        "day": e.change.day.isoformat(),
                        "action": e.change.action.value,
                        "kind": e.kind,
                        "detail": e.message,
                    }
                    for e in exc.errors
                ],
            )
        except OperationalError:  # a deadlock victim or a lost connection: nothing was saved
            return problem(
                503,
                "Le service est très sollicité : rien n'a été enregistré, "
                "réessayez dans un instant.",
            )
        finally:
            waiting_room.record_service(opening, started)
        return Response(
            {
                "booked": [_row(b) for b in result.booked],
                "cancelled": [_row(b) for b in result.cancelled],
                "waiting_list": [
                    {"child": w.child_id, "activity": w.slot.activity_id, "day": w.slot.day}
                    for w in result.waiting
                ],
                "unchanged": result.unchanged,
                "receipt": result.changeset.pk if result.changeset else None,
            }
        )


def _row(b):
    return {"id": b.pk, "child": b.child_id, "activity": b.slot.activity_id, "day": b.slot.day}
