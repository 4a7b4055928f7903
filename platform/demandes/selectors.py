"""Reads of requests for town staff, scoped to the service areas they work in
(agents: their areas; managers and town admins: all). Another area's request
is a 404."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from demandes.models import Attachment, Demande, DemandeEvent


def areas_of(user) -> list[str] | None:
    """Areas a staff member works in; None means every area (managers, admins)."""
    if user.role in (User.Role.MANAGER, User.Role.TOWN_ADMIN):
        return None
    return list(user.service_areas) if user.role == User.Role.AGENT else []


def demandes_for_staff(user) -> QuerySet[Demande]:
    qs = Demande.objects.select_related("household", "child", "assigned_to", "submitted_by")
    areas = areas_of(user)
    return qs if areas is None else qs.filter(service_area__in=areas)


def inbox(user, *, status: str = "", kind: str = "", service: str = "", mine: bool = False):
    qs = demandes_for_staff(user)
    if status:
        qs = qs.filter(status=status)
    else:  # default view: what is still to be done
        qs = qs.filter(status__in=[Demande.Status.SUBMITTED, Demande.Status.IN_REVIEW])
    if kind:
        qs = qs.filter(kind=kind)
    if service:
        qs = qs.filter(service_area=service)
    if mine:
        qs = qs.filter(assigned_to=user)
    return qs.order_by("created_at", "id")  # oldest first: first come, first served


def demande_for_staff(user, pk) -> Demande:
    qs = demandes_for_staff(user).prefetch_related(
        Prefetch(
            "events",
            queryset=DemandeEvent.objects.select_related("actor").prefetch_related("attachments"),
            to_attr="history",
        )
    )
    return get_object_or_404(qs, pk=pk)


def attachment_for_staff(user, demande_pk, pk) -> Attachment:
    return get_object_or_404(
        Attachment.objects.filter(
            event__demande__in=demandes_for_staff(user), event__demande_id=demande_pk
        ),
        pk=pk,
    )


def assignable_staff(demande: Demande) -> list[User]:
    staff = User.objects.filter(
        role__in=[User.Role.AGENT, User.Role.MANAGER, User.Role.TOWN_ADMIN], is_active=True
    ).order_by("last_name", "first_name", "username")
    return [u for u in staff if u.works_in(demande.service_area)]
