"""Write path of requests. Each function is one use case, in one transaction;
the family's e-mails go through the outbox (notifications.outbox), sent after commit."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from core.uploads import ATTACHMENT_MAX_BYTES, check_upload
from core.urls import tenant_reverse
from demandes import handlers, rules
from demandes.models import Attachment, Demande, DemandeEvent
from notifications.outbox import queue_mail

MAX_MESSAGE = 5000


@transaction.atomic
def submit_demande(
    *,
    kind: str,
    subject: str,
    submitted_by,
    household=None,
    child=None,
    payload: dict | None = None,
    service_area: str = "general",
    message: str = "",
    draft: bool = False,
) -> Demande:
    status = Demande.Status.DRAFT if draft else Demande.Status.SUBMITTED
    demande = Demande.objects.create(
        kind=kind,
        subject=subject[:200],
        household=household,
        child=child,
        payload=payload or {},
        service_area=service_area,
        submitted_by=submitted_by,
        status=status,
    )
    DemandeEvent.objects.create(
        demande=demande, actor=submitted_by, to_status=status, message=message[:MAX_MESSAGE]
    )
    if not draft:
        _notify_family(demande, "status")
    return demande


@transaction.atomic
def change_status(*, demande: Demande, action: str, actor, message: str = "") -> Demande:
    """Submit, take in review, accept, refuse or cancel. Accepting runs the kind's
    handler in the same transaction: if it refuses (ValidationError), nothing changes."""
    demande = Demande.objects.select_for_update().get(pk=demande.pk)
    try:
        new = rules.transition(
            demande.status, action, by_staff=actor.is_town_staff, message=message
        )
    except rules.TransitionError as exc:
        raise ValidationError(str(exc), code="transition") from None
    if new == rules.Status.ACCEPTED:
        kind = handlers.get(demande.kind)
        if kind is not None and kind.apply is not None:
            kind.apply(demande, actor)
    old = demande.status
    demande.status = new
    if new == rules.Status.IN_REVIEW and demande.assigned_to_id is None:
        demande.assigned_to = actor
    demande.save(update_fields=["status", "assigned_to", "updated_at"])
    DemandeEvent.objects.create(
        demande=demande,
        actor=actor,
        from_status=old,
        to_status=new,
        message=message.strip()[:MAX_MESSAGE],
    )
    _notify_family(demande, "status")
    return demande


@transaction.atomic
def assign_demande(*, demande: Demande, assignee, actor) -> Demande:
    """Give the request to an agent of its service; a new request is then in review."""
    if (
        assignee is None
        or not assignee.is_town_staff
        or not assignee.works_in(demande.service_area)
    ):
        raise ValidationError("Cet agent ne travaille pas dans le service de cette demande.")
    demande = Demande.objects.select_for_update().get(pk=demande.pk)
    if demande.status in rules.FINAL:
        raise ValidationError("Cette demande est close : elle ne peut plus être attribuée.")
    demande.assigned_to = assignee
    demande.save(update_fields=["assigned_to", "updated_at"])
    DemandeEvent.objects.create(
        demande=demande,
        actor=actor,
        message=f"Demande attribuée à {assignee.get_full_name() or assignee.username}.",
        internal=True,
    )
    if demande.status == rules.Status.SUBMITTED:
        demande = change_status(demande=demande, action=rules.Action.START_REVIEW, actor=actor)
    return demande


@transaction.atomic
def post_message(*, demande: Demande, author, message: str, upload=None) -> DemandeEvent:
    """A message between the family and the services, with an optional file."""
    message = (message or "").strip()
    if not message and upload is None:
        raise ValidationError("Écrivez un message ou joignez un fichier.", code="empty")
    if len(message) > MAX_MESSAGE:
        raise ValidationError(f"Le message est trop long ({MAX_MESSAGE} caractères au plus).")
    checked = check_upload(upload, limit=ATTACHMENT_MAX_BYTES) if upload is not None else None
    demande = Demande.objects.select_for_update().get(pk=demande.pk)
    event = DemandeEvent.objects.create(demande=demande, actor=author, message=message)
    if checked is not None:
        attachment = Attachment(
            event=event,
            stored_name=checked.stored_name,
            original_name=checked.original_name,
            content_type=checked.content_type,
            size=checked.size,
        )
        attachment.file.save(checked.stored_name, checked.as_file(), save=False)
        attachment.save()
    demande.save(update_fields=["updated_at"])
    if author is not None and author.is_town_staff:
        _notify_family(demande, "message")
    return event


# --- internals ----------------------------------------------------------


def _family_recipients(demande: Demande) -> list[str]:
    submitter = demande.submitted_by
    if submitter is not None and submitter.email and not submitter.is_town_staff:
        return [submitter.email]
    if demande.household_id is None:
        return []
    return [
        (a.user.email if a.user_id and a.user.email else a.email)
        for a in demande.household.adults.select_related("user")
    ]


def _notify_family(demande: Demande, what: str) -> None:
    """E-mail the family. No personal detail in the e-mail: only the subject,
    the new status and a link (health data never leaves the portal)."""
    commune = connection.tenant
    status_label = Demande.Status(demande.status).label
    subject = (
        f"Votre demande « {demande.subject} » : {status_label}"
        if what == "status"
        else f"Nouveau message sur votre demande « {demande.subject} »"
    )
    queue_mail(
        to=_family_recipients(demande),
        subject=subject,
        template="demandes/email/notification.txt",
        context={
            "commune": commune,
            "demande": demande,
            "what": what,
            "status_label": status_label,
            "url": tenant_reverse(
                commune, "families:demande", kwargs={"pk": demande.pk}, absolute=True
            ),
        },
    )
