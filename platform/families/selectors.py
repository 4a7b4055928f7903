"""Reads of a family's data, ALWAYS scoped to the signed-in account's legal
representative (`Adult`): another family's id gives a 404, never the data
(security.md: a French portal once let parents read other children's records
by changing an id in the URL). Views and API views fetch objects only here.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from demandes.models import Attachment, Demande, DemandeEvent
from families.models import Adult, Child, EntourageMember, Household


def adult_of(user) -> Adult:
    """The legal representative linked to this account (404 if none: staff, unlinked)."""
    if not user.is_authenticated or user.is_town_staff:
        raise Http404("Aucun dossier famille n'est rattaché à ce compte.")
    adult = Adult.objects.select_related("household", "household__payer").filter(user=user).first()
    if adult is None:
        raise Http404("Aucun dossier famille n'est rattaché à ce compte.")
    return adult


def household_of(user) -> Household:
    return adult_of(user).household


def children_of(user) -> QuerySet[Child]:
    """Children this account is a legal representative of (in any household)."""
    return (
        Child.objects.filter(guardians__user=user)
        .select_related("health")
        .order_by("birth_date", "id")
        .distinct()
    )


def child_of(user, pk) -> Child:
    return get_object_or_404(children_of(user), pk=pk)


def guardians_of(child: Child) -> list[Adult]:
    return list(child.guardians.order_by("id"))


def entourage_of(user) -> QuerySet[EntourageMember]:
    return EntourageMember.objects.filter(household__adults__user=user)


def entourage_member_of(user, pk) -> EntourageMember:
    return get_object_or_404(entourage_of(user), pk=pk)


def demandes_of(user) -> QuerySet[Demande]:
    """The requests of this account's household (both parents of a household see them)."""
    return Demande.objects.filter(household__adults__user=user).select_related("child")


def demande_of(user, pk, *, with_history: bool = False) -> Demande:
    qs = demandes_of(user)
    if with_history:
        qs = qs.prefetch_related(_family_history())
    return get_object_or_404(qs, pk=pk)


def attachment_of(user, demande_pk, pk) -> Attachment:
    return get_object_or_404(
        Attachment.objects.filter(
            event__demande__in=demandes_of(user),
            event__internal=False,
            event__demande_id=demande_pk,
        ),
        pk=pk,
    )


def _family_history() -> Prefetch:
    return Prefetch(
        "events",
        queryset=DemandeEvent.objects.filter(internal=False)
        .select_related("actor")
        .prefetch_related("attachments"),
        to_attr="history",
    )
