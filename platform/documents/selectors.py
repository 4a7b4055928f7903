"""Reads, always scoped: a family reaches only its household's rows, in the
current town's schema; anything else is a 404 (never "exists but forbidden")."""

from __future__ import annotations

from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404

from demandes.models import Demande
from documents.models import Document, DocumentUse, VaultItem
from families.models import Adult, Child


def household_of(user):
    """The household of a family account, or None (staff, operators, anonymous)."""
    if not user.is_authenticated or getattr(user, "role", None) != "family":
        return None
    adult = getattr(user, "adult", None)  # reverse one-to-one: None when unlinked
    return adult.household if adult is not None else None


def family_documents(household):
    return Document.objects.filter(household=household).select_related("child")


def family_document(household, pk) -> Document:
    return get_object_or_404(Document, household=household, pk=pk)


def family_demandes(household):
    return Demande.objects.filter(household=household)


def family_demande(household, pk):
    return get_object_or_404(Demande, household=household, pk=pk)


def family_children(household):
    return Child.objects.filter(household=household)


def documents_in_use(document):
    return DocumentUse.objects.filter(document=document).select_related("demande")


def documents_for_demande(demande):
    """Documents a family attached to a request (for staff screens of requests)."""
    return Document.objects.filter(uses__demande=demande).select_related("child")


def staff_documents(*, status: str | None = None, demande_id=None, household_id=None):
    qs = Document.objects.select_related("household", "child", "reviewed_by")
    if status:
        qs = qs.filter(status=status)
    if demande_id:
        qs = qs.filter(uses__demande_id=demande_id)
    if household_id:
        qs = qs.filter(household_id=household_id)
    return qs.order_by("created_at", "id")


def staff_document(pk) -> Document:
    return get_object_or_404(Document.objects.select_related("household", "child"), pk=pk)


def documents_usage(household) -> int:
    return Document.objects.filter(household=household).aggregate(s=Sum("size"))["s"] or 0


def vault_usage(household) -> int:
    return VaultItem.objects.filter(household=household).aggregate(s=Sum("size"))["s"] or 0


def vault_items(household):
    return VaultItem.objects.filter(household=household)


def vault_item(household, public_id) -> VaultItem:
    return get_object_or_404(VaultItem, household=household, public_id=public_id)


def family_emails(household) -> list[str]:
    """Where a household's e-mails go: its accounts' addresses, else its adults'."""

    emails = []
    for adult in Adult.objects.filter(household=household).select_related("user"):
        address = (adult.user.email if adult.user_id and adult.user.email else "") or adult.email
        if address and address not in emails:
            emails.append(address)
    return emails


def reusable_documents(household, kinds, *, today):
    """The household's stored documents a form may use instead of a new upload:
    of the given types, not refused, not expired on `today` (newest first)."""

    if household is None or not kinds:
        return Document.objects.none()
    return (
        Document.objects.filter(household=household, kind__in=list(kinds))
        .exclude(status=Document.Status.REJECTED)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("-created_at", "-id")
    )
