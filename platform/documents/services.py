"""Write path of documents and of the private vault: one function per use case,
keyword-only, in one transaction; e-mails after commit; French errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import sentry_sdk
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from audit import journal
from core import filetypes
from core.uploads import CheckedFile, check_bytes, check_upload
from core.urls import tenant_reverse
from documents import rules, selectors
from documents import vault as crypto
from documents.models import Document, DocumentKind, DocumentUse, VaultItem
from documents.storage import delete_after_commit
from families.models import Household
from notifications.outbox import queue_mail

log = logging.getLogger(__name__)

CLOSED_DEMANDE_STATUSES = ("accepted", "refused", "cancelled")


def _lock_household(household) -> None:
    """Serialise a family's uploads so two at once cannot both pass the quota."""

    Household.objects.select_for_update().filter(pk=household.pk).first()


def _check_quota(*, used: int, incoming: int, quota: int, what: str) -> None:
    if not rules.quota_allows(used=used, incoming=incoming, quota=quota):
        raise ValidationError(
            f"{what} est plein : {filetypes.human_size(used)} utilisés "
            f"sur {filetypes.human_size(quota)}. "
            "Supprimez des documents dont vous n'avez plus besoin, puis réessayez.",
            code="quota",
        )


def _check_child(household, child) -> None:
    if child is not None and child.household_id != household.pk:
        raise ValidationError("Cet enfant ne fait pas partie de votre foyer.", code="child")


def _check_dates(kind: str, issued_on, valid_until):
    if issued_on and issued_on > timezone.localdate():
        raise ValidationError(
            "La date du document ne peut pas être dans le futur.", code="issued_on"
        )
    valid_until = valid_until or rules.default_valid_until(kind, issued_on)
    if issued_on and valid_until and valid_until < issued_on:
        raise ValidationError(
            "La date de fin de validité précède la date du document.", code="valid_until"
        )
    return valid_until


def _create_document(
    *,
    household,
    uploaded_by,
    checked: CheckedFile,
    kind,
    title,
    child,
    issued_on,
    valid_until,
    from_vault=False,
) -> Document:
    if kind not in DocumentKind.values:
        raise ValidationError("Type de document inconnu.", code="kind")
    _check_child(household, child)
    valid_until = _check_dates(kind, issued_on, valid_until)
    _lock_household(household)
    _check_quota(
        used=selectors.documents_usage(household),
        incoming=checked.size,
        quota=settings.DOCUMENT_HOUSEHOLD_QUOTA_BYTES,
        what="Votre espace de pièces justificatives",
    )
    document = Document(
        household=household,
        child=child,
        kind=kind,
        title=(title or "").strip()[:120],
        content_type=checked.content_type,
        size=checked.size,
        sha256=hashlib.sha256(checked.content).hexdigest(),
        issued_on=issued_on,
        valid_until=valid_until,
        uploaded_by=uploaded_by,
        from_vault=from_vault,
    )
    document.file.save(f"document.{checked.extension}", ContentFile(checked.content), save=False)
    _save_or_forget_file(document)
    return document


def _save_or_forget_file(obj) -> None:
    """Every check ran before the file was written; if the row still fails to
    save, the file must not stay on disk."""
    try:
        obj.save()
    except Exception:
        obj.file.storage.delete(obj.file.name)
        raise


@transaction.atomic
def upload_document(
    *,
    household,
    uploaded_by,
    uploaded_file,
    kind: str,
    title: str = "",
    child=None,
    issued_on: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> Document:
    return store_checked_document(
        household=household,
        uploaded_by=uploaded_by,
        checked=check_upload(uploaded_file),
        kind=kind,
        title=title,
        child=child,
        issued_on=issued_on,
        valid_until=valid_until,
    )


@transaction.atomic
def store_checked_document(
    *,
    household,
    uploaded_by,
    checked: CheckedFile,
    kind: str,
    title: str = "",
    child=None,
    issued_on: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> Document:
    """Keep a checked file with the family's documents (an upload on the
    documents page, or a registration paper: offered next time instead of a
    new upload)."""
    return _create_document(
        household=household,
        uploaded_by=uploaded_by,
        checked=checked,
        kind=kind,
        title=title,
        child=child,
        issued_on=issued_on,
        valid_until=valid_until,
    )


@transaction.atomic
def review_document(*, document: Document, reviewer, status: str, reason: str = "") -> Document:
    if status not in (Document.Status.VALID, Document.Status.REJECTED):
        raise ValidationError(
            "Décision inconnue : choisissez « validé » ou « refusé ».", code="status"
        )
    reason = (reason or "").strip()
    if status == Document.Status.REJECTED and not reason:
        raise ValidationError(
            "Indiquez le motif du refus : il est envoyé à la famille.", code="reason"
        )
    document = Document.objects.select_for_update().get(pk=document.pk)
    document.status = status
    document.rejection_reason = reason if status == Document.Status.REJECTED else ""
    document.reviewed_by = reviewer
    document.reviewed_at = timezone.now()
    document.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at"])
    journal.record(
        actor=reviewer,
        action=journal.REVIEW_DOCUMENT,
        household=document.household_id,
        target=document,
        detail={"statut": status},
    )
    if status == Document.Status.REJECTED:
        queue_mail(
            to=selectors.family_emails(document.household),
            subject="Un de vos documents a été refusé",
            template="documents/email/rejected.txt",
            context={
                "document": document,
                "commune": _commune(),
                "url": tenant_reverse(_commune(), "documents:list", absolute=True),
            },
        )
    return document


@transaction.atomic
def attach_document(*, document: Document, demande, user) -> DocumentUse:
    if document.household_id != demande.household_id:
        raise ValidationError(
            "Ce document n'appartient pas au foyer de la demande.", code="household"
        )
    if demande.status in CLOSED_DEMANDE_STATUSES:
        raise ValidationError(
            "Cette demande est close : on ne peut plus y joindre de document.", code="closed"
        )
    if document.status == Document.Status.REJECTED:
        raise ValidationError("Ce document a été refusé : déposez-en un nouveau.", code="rejected")
    use, _ = DocumentUse.objects.get_or_create(
        document=document, demande=demande, defaults={"attached_by": user}
    )
    return use


@transaction.atomic
def delete_document(*, document: Document) -> None:
    if (
        DocumentUse.objects.filter(document=document)
        .exclude(demande__status__in=CLOSED_DEMANDE_STATUSES)
        .exists()
    ):
        raise ValidationError(
            "Ce document est joint à une demande en cours : il ne peut pas être supprimé "
            "avant qu'elle soit traitée.",
            code="in_use",
        )
    delete_after_commit([document.file])
    document.delete()


# --- expiry reminders ---------------------------------------------------------------


def send_expiry_reminders(*, today: dt.date | None = None) -> int:
    """E-mail families whose documents expire within rules.REMINDER_DAYS (once per date)."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=rules.REMINDER_DAYS)
    sent = 0
    candidates = (
        Document.objects.filter(
            valid_until__lte=horizon,
            valid_until__gte=today - dt.timedelta(days=rules.REMINDER_DAYS),
        )
        .exclude(status=Document.Status.REJECTED)
        .select_related("household")
    )
    for document in candidates:
        superseded = (
            Document.objects.filter(
                household=document.household_id,
                kind=document.kind,
                child=document.child_id,
                valid_until__gt=document.valid_until,
            )
            .exclude(status=Document.Status.REJECTED)
            .exists()
        )
        if not rules.reminder_due(
            valid_until=document.valid_until,
            today=today,
            status=document.status,
            reminded_for=document.reminded_for,
            superseded=superseded,
        ):
            continue
        with transaction.atomic():
            updated = (
                Document.objects.filter(pk=document.pk)
                .exclude(reminded_for=document.valid_until)
                .update(reminded_for=document.valid_until)
            )
            if not updated:  # another worker sent it
                continue
            emails = selectors.family_emails(document.household)
            if emails:
                queue_mail(
                    to=emails,
                    subject=(
                        "Un de vos justificatifs a expiré"
                        if document.valid_until < today
                        else "Un de vos justificatifs arrive à expiration"
                    ),
                    template="documents/email/expiry_reminder.txt",
                    context={
                        "document": document,
                        "today": today,
                        "commune": _commune(),
                        "expired": document.valid_until < today,
                        "url": tenant_reverse(_commune(), "documents:list", absolute=True),
                    },
                )
                sent += 1
    return sent


def _commune():
    return getattr(connection, "tenant", None)


# --- private vault ------------------------------------------------------------------


def _where(household, item_id) -> dict:
    return {"schema": connection.schema_name, "household_id": household.pk, "item_id": str(item_id)}


@transaction.atomic
def vault_store(*, household, uploaded_file, title: str = "") -> VaultItem:
    checked = check_upload(uploaded_file)
    _lock_household(household)
    _check_quota(
        used=selectors.vault_usage(household),
        incoming=checked.size,
        quota=settings.VAULT_HOUSEHOLD_QUOTA_BYTES,
        what="Votre coffre-fort",
    )
    item = VaultItem(household=household, size=checked.size)
    where = _where(household, item.public_id)
    meta = {
        "title": (title or "").strip()[:120] or "Document",
        "name": filetypes.download_name(title or "document", checked.extension),
        "content_type": checked.content_type,
    }
    item.metadata = crypto.seal_metadata(meta, **where)
    item.file.save(
        "coffre.bin", ContentFile(crypto.seal(checked.content, part="file", **where)), save=False
    )
    _save_or_forget_file(item)
    return item


def vault_metadata(item: VaultItem) -> dict:
    return crypto.open_metadata(item.metadata, **_where(item.household, item.public_id))


UNREADABLE = (
    "Ce document ne peut pas être déchiffré. Nos équipes techniques sont prévenues ; "
    "vos autres documents ne sont pas concernés."
)


def vault_listing(household, items) -> list[tuple[VaultItem, dict | None, str]]:
    """(item, metadata or None, French problem) for each item: one unreadable blob
    (corrupted, or a master key missing after a change) degrades only its own
    line, and is reported to the operator (error log, Sentry when configured)."""
    try:
        key = crypto.family_key(schema=connection.schema_name, household_id=household.pk)
    except crypto.VaultError as exc:
        key, key_problem = None, exc
    out = []
    for item in items:
        try:
            if key is None:
                raise key_problem
            meta = crypto.open_metadata(item.metadata, key=key, **_where(household, item.public_id))
        except crypto.VaultError as exc:
            report_unreadable(item, exc)
            out.append((item, None, UNREADABLE))
        else:
            out.append((item, meta, ""))
    return out


def report_unreadable(item: VaultItem, exc: Exception) -> None:
    log.error(
        "vault_item_unreadable",
        extra={"vault_item": item.pk, "household": item.household_id, "reason": str(exc)},
    )
    try:
        sentry_sdk.capture_message(f"Coffre-fort : élément {item.pk} illisible ({exc})", "error")
    except Exception:  # noqa: BLE001, S110 - reporting must never break the page
        pass


def vault_read(item: VaultItem) -> tuple[dict, bytes]:
    with item.file.open("rb") as fh:
        blob = fh.read()
    where = _where(item.household, item.public_id)
    return vault_metadata(item), crypto.open_sealed(blob, part="file", **where)


@transaction.atomic
def vault_delete(*, item: VaultItem) -> None:
    delete_after_commit([item.file])
    item.delete()


@transaction.atomic
def vault_share(
    *,
    item: VaultItem,
    user,
    kind: str,
    child=None,
    issued_on=None,
    valid_until=None,
    keep_copy: bool = False,
) -> Document:
    """The family chooses to give the town a vault document: decrypt it into a
    new supporting document (checked again, like any upload)."""
    meta, content = vault_read(item)
    checked = check_bytes(content, name=meta["name"])
    document = _create_document(
        household=item.household,
        uploaded_by=user,
        checked=checked,
        kind=kind,
        title=meta["title"],
        child=child,
        issued_on=issued_on,
        valid_until=valid_until,
        from_vault=True,
    )
    if not keep_copy:
        vault_delete(item=item)
    return document
