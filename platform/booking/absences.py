"""Write path of absences and attendance ("pointage").

A family reports an absence for a booked day it can no longer cancel (meal,
ALSH, crèche: Bassens, Donges), with a justification file that the service's
`options.absences.justification` makes optional, required or absent. Staff
decide; billing reads `Absence.decision` with `Booking.attendance` and
`Booking.cancelled_late` (do not rename them: modules.billing prices them).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from booking import selectors
from booking.catalogue import options_of
from booking.checkin import record_mark
from booking.deadlines import evaluate_cell
from booking.french import PARIS, format_date
from booking.models import Absence, Booking
from booking.services import BookingRefused, portal_url
from core.uploads import ATTACHMENT_MAX_BYTES, check_upload
from documents.selectors import reusable_documents
from notifications.outbox import queue_mail

# Stored documents an absence may be justified with (documents.models.DocumentKind).
ABSENCE_DOCUMENT_KINDS = ("certificat_medical", "justificatif_absence")


def family_household(user, child):
    """The household whose stored documents the declaration may use: the
    account's own (separated parents each have theirs), else the child's."""
    adult = getattr(user, "adult", None) if user is not None else None
    return adult.household if adult is not None else child.household


def absence_documents(household, *, today: date):
    """The family's valid stored documents an absence may be justified with."""

    return reusable_documents(household, ABSENCE_DOCUMENT_KINDS, today=today)


def stored_absence_document(household, document_id, now):
    try:
        pk = int(document_id)
    except (TypeError, ValueError):
        raise BookingRefused("Justificatif : document inconnu.") from None
    found = absence_documents(household, today=now.astimezone(PARIS).date()).filter(pk=pk).first()
    if found is None:
        raise BookingRefused(
            "Justificatif : ce document n'est plus valable ou n'est pas un justificatif "
            "d'absence ; choisissez-en un autre ou envoyez un nouveau fichier."
        )
    return found


@transaction.atomic
def report_absence(
    *,
    booking: Booking,
    reason: str,
    comment: str = "",
    upload=None,
    user=None,
    now: datetime | None = None,
    stored_document: int | str | None = None,
) -> Absence:
    """`stored_document`: the id of one of the family's valid stored documents
    of an absence type, instead of a new upload."""
    now = now or timezone.now()
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("slot__activity__service", "child")
        .get(pk=booking.pk)
    )
    if booking.status != Booking.Status.BOOKED:
        raise BookingRefused("Ce jour n'est pas réservé.")
    if Absence.objects.filter(booking=booking).exists():
        raise BookingRefused("Une absence est déjà signalée pour ce jour.")
    if reason not in Absence.Reason.values:
        raise BookingRefused("Choisissez le motif de l'absence.")
    service = booking.slot.activity.service
    opts = options_of(service)
    day = booking.slot.day
    today = now.astimezone(PARIS).date()
    last = day + timedelta(days=opts.report_days_after)
    if today > last:
        raise BookingRefused(
            f"Le signalement d'une absence était possible jusqu'au {format_date(last)}."
        )
    rules = selectors.rules_for(service)
    state = evaluate_cell(
        day=day,
        now=now,
        rules=rules,
        booked=True,
        session_start=selectors.session_start_for(
            rules, day, selectors.town_calendar(), service.code
        ),
        windows=selectors.windows_for(service),
        service=service.code,
        holidays=selectors.public_holidays(),
    )
    if state.can_cancel:
        # Still cancellable: a cancellation costs nothing, an absence may be billed.
        raise BookingRefused(
            "Ce jour peut encore être annulé sans frais : annulez-le plutôt dans vos réservations "
            f"({state.explanation})."
        )
    document = None
    if stored_document not in (None, "") and upload is None and opts.justification != "none":
        document = stored_absence_document(
            family_household(user, booking.child), stored_document, now
        )
    if opts.justification == "required" and upload is None and document is None:
        raise BookingRefused("Un justificatif est obligatoire pour ce service.")
    if opts.justification == "none" and upload is not None:
        raise BookingRefused("Ce service ne demande pas de justificatif.")
    absence = Absence(
        booking=booking, reason=reason, comment=(comment or "")[:2000], reported_by=user
    )
    if document is not None:  # deposited once, used here: the document's own file
        absence.justification_name = str(document)[:120]
        absence.justification_type = document.content_type
        absence.justification.name = document.file.name
    elif upload is not None:
        try:
            info = check_upload(upload, limit=ATTACHMENT_MAX_BYTES)
        except ValidationError as exc:
            raise BookingRefused(exc.messages[0]) from None
        absence.justification_name = info.original_name
        absence.justification_type = info.content_type
        absence.justification.save(info.stored_name, info.as_file(), save=False)
    absence.save()
    _notify(absence)
    return absence


@transaction.atomic
def decide_absence(
    *, absence: Absence, decision: str, actor, comment: str = "", now: datetime | None = None
) -> Absence:
    absence = (
        Absence.objects.select_for_update()
        .select_related("booking__slot__activity", "booking__child")
        .get(pk=absence.pk)
    )
    if decision not in (Absence.Decision.JUSTIFIED, Absence.Decision.UNJUSTIFIED):
        raise BookingRefused("Décision inconnue.")
    if absence.decision != Absence.Decision.PENDING:
        raise BookingRefused("Cette absence a déjà été examinée.")
    absence.decision = decision
    absence.decided_by = actor
    absence.decided_at = now or timezone.now()
    absence.staff_comment = (comment or "")[:2000]
    absence.save(update_fields=["decision", "decided_by", "decided_at", "staff_comment"])
    _notify(absence)
    return absence


def mark_attendance(*, booking: Booking, attendance: str, actor=None) -> Booking:
    """Check-in on the staff tablet: present, absent, or back to not checked
    (one mark, booking.checkin.record_mark: the one write path of attendance)."""

    return record_mark(
        booking=booking, attendance=attendance, mark_id=uuid.uuid4(), actor=actor
    ).booking


def _notify(absence: Absence) -> None:
    child = absence.booking.child
    to = selectors.family_emails([child.pk]).get(child.pk, [])
    if not to:
        return
    subject = (
        "Signalement d'absence reçu"
        if absence.decision == Absence.Decision.PENDING
        else f"Absence examinée : {absence.get_decision_display()}"
    )
    queue_mail(
        to=to,
        subject=subject,
        template="booking/email/absence.txt",
        context={
            "commune": connection.tenant,
            "absence": absence,
            "child": child,
            "portal_url": portal_url(),
        },
    )
