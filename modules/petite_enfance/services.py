"""Write path of petite enfance: crèche pre-registration, appointment and
commission decision (Donges, Castres), holiday declarations for regular care
(Bondoufle: "transmettez vos dates de congés")."""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from audit import journal
from booking.catalogue import activity_day_kinds, options_of
from booking.changes import ChangesRefused, apply_changes
from booking.french import format_date
from booking.models import Activity, Booking, DaySlot
from booking.registrations import household_resident, register_by_staff
from booking.rules import Action, Change, eligibility_problem, school_year_of
from booking.selectors import family_emails, town_calendar
from booking.services import DayStatus, book_days, open_days, portal_url
from demandes import handlers
from demandes.services import submit_demande
from families.models import Adult
from modules.petite_enfance.models import CrecheApplication, LeaveDeclaration
from notifications.outbox import queue_mail

APPLICATION_KIND = "creche_preinscription"


class PetiteEnfanceRefused(Exception):
    """French message for the family or the staff member."""


def register_demande_kind() -> None:
    # Accepting the request only records it: the place itself is the
    # commission's decision (record_decision).
    handlers.register(APPLICATION_KIND, label="Pré-inscription en crèche")


@transaction.atomic
def declare_leave(
    *,
    child,
    service,
    first_day: date,
    last_day: date,
    comment: str = "",
    user=None,
    now: datetime | None = None,
) -> LeaveDeclaration:
    """Cancel the booked days of regular care in the range, all-or-nothing and
    within the service's deadline (Bondoufle: 14 days ahead, a default)."""
    if last_day < first_day:
        raise PetiteEnfanceRefused("La date de fin est avant la date de début.")
    if (last_day - first_day).days > 120:
        raise PetiteEnfanceRefused("Déclarez des congés de 120 jours au plus à la fois.")
    booked = list(
        Booking.objects.filter(
            child=child,
            slot__activity__service=service,
            status=Booking.Status.BOOKED,
            slot__day__range=(first_day, last_day),
        ).select_related("slot")
    )
    if not booked:
        raise PetiteEnfanceRefused(
            f"Aucun jour d'accueil réservé du {format_date(first_day)} au {format_date(last_day)}."
        )
    changes = [Change(child.pk, b.slot.activity_id, b.slot.day, Action.CANCEL) for b in booked]
    try:
        apply_changes(
            children={child.pk: child},
            service=service,
            changes=changes,
            user=user,
            household=child.household,
            now=now,
        )
    except ChangesRefused as exc:
        raise PetiteEnfanceRefused(exc.detail) from None
    return LeaveDeclaration.objects.create(
        child=child,
        service=service,
        first_day=first_day,
        last_day=last_day,
        comment=comment[:255],
        cancelled_days=len(booked),
        declared_by=user,
    )


@transaction.atomic
def submit_application(
    *,
    household,
    service,
    desired_start: date,
    weekdays,
    hours_per_week: int,
    child=None,
    expected_child_name: str = "",
    comment: str = "",
    user=None,
) -> CrecheApplication:
    if child is None and not expected_child_name.strip():
        raise PetiteEnfanceRefused(
            "Choisissez l'enfant, ou indiquez le prénom de l'enfant à naître."
        )
    if not weekdays:
        raise PetiteEnfanceRefused("Choisissez au moins un jour d'accueil souhaité.")
    if child is not None:
        problem = eligibility_problem_for(child, service, on=desired_start)
        if problem:
            raise PetiteEnfanceRefused(
                f"{child.first_name} ne peut pas être pré-inscrit(e) à {service.name} : {problem}."
            )
    application = CrecheApplication.objects.create(
        household=household,
        child=child,
        expected_child_name=expected_child_name.strip()[:80],
        service=service,
        desired_start=desired_start,
        weekdays=sorted(set(weekdays)),
        hours_per_week=hours_per_week,
        comment=comment[:2000],
        submitted_by=user,
    )
    who = child.first_name if child else (expected_child_name or "enfant à naître")
    application.demande = submit_demande(
        kind=APPLICATION_KIND,
        subject=f"Pré-inscription en crèche — {who} ({service.name})",
        submitted_by=user,
        household=household,
        child=child,
        service_area="petite_enfance",
        payload={
            "application": application.pk,
            "desired_start": desired_start.isoformat(),
            "weekdays": application.weekdays,
            "hours_per_week": hours_per_week,
        },
    )
    application.save(update_fields=["demande"])
    return application


@transaction.atomic
def record_appointment(
    *, application: CrecheApplication, at: datetime, place: str, actor
) -> CrecheApplication:
    application = CrecheApplication.objects.select_for_update().get(pk=application.pk)
    if application.status in (
        CrecheApplication.Status.ACCEPTED,
        CrecheApplication.Status.REFUSED,
        CrecheApplication.Status.CANCELLED,
    ):
        raise PetiteEnfanceRefused("Cette pré-inscription est close.")
    application.appointment_at = at
    application.appointment_place = place[:160]
    application.status = CrecheApplication.Status.APPOINTMENT
    application.save(update_fields=["appointment_at", "appointment_place", "status"])
    _notify(
        application,
        f"Rendez-vous fixé le {format_date(at.date())} à {at:%H:%M}"
        f"{' — ' + place if place else ''}.",
    )
    return application


def eligibility_problem_for(child, service, *, on: date) -> str | None:
    """The service's age and residence rules for this child on `on` (French
    reason), or None."""

    return eligibility_problem(
        options_of(service).eligibility,
        birth_date=child.birth_date,
        school_level=getattr(child, "school_class", ""),
        on=on,
        resident=household_resident(child.household),
    )


def book_regular_place(*, child, activity, weekdays, start: date, end: date, now, actor) -> list:
    """A regular place covers the whole decided period: the opening days
    missing a slot get one (the activity's capacity), then every contract day
    is booked with the capacity checked day by day; a full day refuses the
    decision (the caller's transaction undoes everything) with the list of
    full days, so staff can change the dates or the places."""

    calendar = town_calendar()
    if calendar is not None:
        open_days(
            activity=activity,
            calendar=calendar,
            start=start,
            end=end,
            kinds=activity_day_kinds(activity),
        )
    days = DaySlot.objects.filter(activity=activity, day__gte=start, day__lte=end).values_list(
        "day", flat=True
    )
    wanted = [d for d in days if d.weekday() in set(weekdays)]
    result = book_days(
        child=child, activity=activity, days=wanted, now=now, created_by=actor, staff=True
    )
    full = result.with_status(DayStatus.FULL)
    if full:
        shown = ", ".join(format_date(d) for d in full[:5]) + (" …" if len(full) > 5 else "")
        raise PetiteEnfanceRefused(
            f"Place impossible à attribuer sur toute la période : {len(full)} jour(s) complet(s) "
            f"({shown}). Modifiez les dates ou les places avant de valider."
        )
    return result.booked


@transaction.atomic
def record_decision(
    *,
    application: CrecheApplication,
    decision: str,
    actor,
    note: str = "",
    commission_date: date | None = None,
    start_date: date | None = None,
    now: datetime | None = None,
    override_reason: str = "",
    end_date: date | None = None,
) -> CrecheApplication:
    """The commission's decision (Donges: two commissions a year). An accepted
    place registers the child and books the contract's weekdays on the opened
    days of the school year (staff booking: no family deadline applies)."""
    now = now or timezone.now()
    application = CrecheApplication.objects.select_for_update().get(pk=application.pk)
    if decision not in ("accepted", "waiting", "refused"):
        raise PetiteEnfanceRefused("Décision inconnue.")
    if application.status in (
        CrecheApplication.Status.ACCEPTED,
        CrecheApplication.Status.REFUSED,
        CrecheApplication.Status.CANCELLED,
    ):
        raise PetiteEnfanceRefused("Cette pré-inscription est déjà décidée.")
    if decision == "accepted":
        if application.child is None:
            raise PetiteEnfanceRefused(
                "Ajoutez d'abord l'enfant au foyer (naissance) : la place se donne à un enfant."
            )
        start_date = start_date or application.desired_start
        problem = eligibility_problem_for(application.child, application.service, on=start_date)
        if problem:
            override_reason = (override_reason or "").strip()
            if not override_reason:
                raise PetiteEnfanceRefused(
                    f"{application.child.first_name} ne remplit pas les conditions du service "
                    f"({problem}). Pour attribuer la place malgré tout, indiquez le motif de la "
                    "dérogation."
                )

            journal.record(
                actor=actor,
                action=journal.ELIGIBILITY_OVERRIDE,
                household=application.household_id,
                target=application,
                detail={"condition": problem, "motif": override_reason[:500]},
            )
            application.eligibility_override = override_reason[:500]
        year = school_year_of(start_date)
        activity = (
            Activity.objects.filter(service=application.service, is_active=True)
            .select_related("site")
            .order_by("id")
            .first()
        )
        register_by_staff(
            child=application.child,
            service=application.service,
            school_year=year,
            site=activity.site if activity else None,
            actor=actor,
            now=now,
        )
        end_date = end_date or date(year + 1, 8, 31)
        if end_date < start_date:
            raise PetiteEnfanceRefused("La fin du contrat doit suivre son début.")
        if activity is not None:
            book_regular_place(
                child=application.child,
                activity=activity,
                weekdays=application.weekdays,
                start=start_date,
                end=end_date,
                now=now,
                actor=actor,
            )
        application.start_date = start_date
        application.end_date = end_date
        application.site = activity.site if activity else None
    application.status = decision
    application.decision_note = note[:2000]
    application.commission_date = commission_date or now.date()
    application.decided_by = actor
    application.decided_at = now
    application.save()
    label = CrecheApplication.Status(decision).label
    _notify(
        application,
        f"Décision de la commission : {label}."
        + (f" Début de l'accueil le {format_date(start_date)}." if decision == "accepted" else "")
        + (f" {note}" if note else ""),
    )
    return application


def _notify(application: CrecheApplication, text: str) -> None:
    to = []
    if application.child_id:
        to = family_emails([application.child_id]).get(application.child_id, [])
    if not to:
        to = [
            a.user.email if a.user_id and a.user.email else a.email
            for a in Adult.objects.filter(household_id=application.household_id).select_related(
                "user"
            )
        ]
    queue_mail(
        to=[t for t in to if t],
        subject="Votre pré-inscription en crèche",
        template="petite_enfance/email/application.txt",
        context={
            "commune": connection.tenant,
            "application": application,
            "text": text,
            "portal_url": portal_url(),
        },
    )
