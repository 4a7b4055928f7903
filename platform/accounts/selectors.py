"""Reads of accounts, scoped to the current town's schema."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404

from accounts.models import ActivationKey


def adults_without_account(*, query: str = ""):
    from families.models import Adult

    qs = (
        Adult.objects.filter(user__isnull=True)
        .select_related("household")
        .prefetch_related(
            Prefetch(
                "activation_keys",
                queryset=ActivationKey.objects.order_by("-created_at", "-id"),
                to_attr="keys",
            )
        )
    )
    if query:
        qs = qs.filter(
            Q(last_name__icontains=query)
            | Q(first_name__icontains=query)
            | Q(household__name__icontains=query)
        )
    return qs.order_by("last_name", "first_name", "id")


def adult_without_account(*, adult_id: int):
    from families.models import Adult

    return get_object_or_404(
        Adult.objects.filter(user__isnull=True).select_related("household"), pk=adult_id
    )
