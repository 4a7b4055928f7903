"""Absences over a period: « Constance absente du 8 au 10 », declared ONCE for
every service booked in those days, with one optional justification file.

Each booked day of the period gets one outcome, computed by `plan_absence` and
shown BEFORE the family confirms (with what billing will do, from the town's
billing rules through core.day_prices):
- still cancellable: it is cancelled, free of charge (a cancellation costs
  nothing where an absence may be billed);
- no longer cancellable: an `Absence` row (the same one the single-day report
  writes, so staff pages and billing read it unchanged), linked to the
  declaration;
- too late to report (past the service's `report_days_after`): refused.
`declare_absence` applies the whole plan in one transaction or nothing. Staff
decide each day (`absences.decide_absence`) or the whole declaration
(`decide_declaration`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from booking import selectors
from booking.absences import (
    decide_absence,
    family_household,
    stored_absence_document,
)
from booking.catalogue import options_of
from booking.deadlines import evaluate_cell
from booking.french import PARIS, format_date
from booking.models import Absence, AbsenceDeclaration, AbsenceReason, Booking
from booking.services import BookingRefused, hand_over_place, portal_url
from core.day_prices import ILLNESS, JUSTIFIED_ABSENCE, UNJUSTIFIED_ABSENCE, DayQuery, day_prices
from core.uploads import ATTACHMENT_MAX_BYTES, check_upload
from documents.services import store_checked_document
from notifications.outbox import queue_mail

MAX_DAYS = 62  # two months: a long illness is declared in a few steps

CANCEL, ABSENCE, TOO_LATE = "cancel", "absence", "too_late"


# --- pure ---------------------------------------------------------------------------------


def period_problem(first: date | None, last: date | None) -> str | None:
    if first is None or last is None:
        return "Indiquez le premier et le dernier jour d'absence."
    if last < first:
        return "Le dernier jour d'absence doit suivre le premier."
    if (last - first).days + 1 > MAX_DAYS:
        return f"Déclarez au plus {MAX_DAYS} jours à la fois."
    return None


def consequence_text(*, what: str, unjustified=None, justified=None, justification="optional"):
    """What billing will do with one day of the plan (French, for the family).
    unjustified / justified: core.day_prices.DayPrice or None (no billing)."""
    if what == CANCEL:
        return "annulé sans frais (encore dans les délais)"
    if what == TOO_LATE:
        return "trop tard pour signaler cette absence"
    if unjustified is None:
        return "absence signalée au service"
    if justification == "none":
        return f"facturé {_euros(unjustified.amount)} (ce service ne prend pas de justificatif)"
    if justified is None or justified.amount == unjustified.amount:
        carence = justified is not None and "carence" in justified.explanation
        return f"facturé {_euros(unjustified.amount)}, même justifié" + (
            " (jour de carence)" if carence else ""
        )
    if justified.amount == 0:
        return (
            f"non facturé si le service accepte le justificatif ; sinon facturé "
            f"{_euros(unjustified.amount)}"
        )
    return (
        f"facturé {_euros(justified.amount)} si le justificatif est accepté (jour de carence) ; "
        f"sinon {_euros(unjustified.amount)}"
    )


def _euros(value) -> str:
    text = f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0€"


# --- the plan -----------------------------------------------------------------------------


@dataclass
class PlannedDay:
    booking: Booking
    what: str  # CANCEL, ABSENCE, TOO_LATE
    text: str  # why (deadline) — from the deadline rules
    justification: str = "optional"  # the service's option: none, optional, required
    consequence: str = ""

    @property
    def day(self) -> date:
        return self.booking.slot.day

    @property
    def service_name(self) -> str:
        return self.booking.slot.activity.service.name


@dataclass
class AbsencePlan:
    child: object
    first: date
    last: date
    days: list[PlannedDay] = field(default_factory=list)

    @property
    def refused(self) -> list[PlannedDay]:
        return [d for d in self.days if d.what == TOO_LATE]

    @property
    def needs_justification(self) -> bool:
        return any(d.what == ABSENCE and d.justification == "required" for d in self.days)

    @property
    def takes_justification(self) -> bool:
        return any(d.what == ABSENCE and d.justification != "none" for d in self.days)


def plan_absence(
    *, child, first: date, last: date, reason: str = "", now: datetime | None = None, lock=False
) -> AbsencePlan:
    """Every booked day of `child` from `first` to `last` and what declaring
    the absence does to it (constant number of queries)."""
    now = now or timezone.now()
    today = now.astimezone(PARIS).date()
    plan = AbsencePlan(child, first, last)
    qs = Booking.objects.filter(
        child=child,
        slot__day__range=(first, last),
        status=Booking.Status.BOOKED,
        absence__isnull=True,
    ).select_related("slot__activity__service")
    if lock:
        qs = qs.select_for_update(of=("self",))
    bookings = sorted(qs, key=lambda b: (b.slot.day, b.slot.activity.service.position, b.pk))
    calendar = selectors.town_calendar()
    holidays = selectors.public_holidays()
    per_service = {}
    for b in bookings:
        service = b.slot.activity.service
        if service.pk not in per_service:
            per_service[service.pk] = (
                selectors.rules_for(service),
                selectors.windows_for(service),
                options_of(service),
            )
        rules, windows, opts = per_service[service.pk]
        state = evaluate_cell(
            day=b.slot.day,
            now=now,
            rules=rules,
            booked=True,
            session_start=selectors.session_start_for(rules, b.slot.day, calendar, service.code),
            windows=windows,
            service=service.code,
            holidays=holidays,
        )
        if state.can_cancel:
            what = CANCEL
        elif today > b.slot.day + timedelta(days=opts.report_days_after):
            what = TOO_LATE
        else:
            what = ABSENCE
        plan.days.append(PlannedDay(b, what, state.explanation, opts.justification))
    _explain_billing(plan, reason)
    return plan


def _explain_billing(plan: AbsencePlan, reason: str) -> None:
    justified_kind = ILLNESS if reason in ("", AbsenceReason.ILLNESS) else JUSTIFIED_ABSENCE
    queries = {}
    for d in plan.days:
        if d.what != ABSENCE:
            continue
        code = d.booking.slot.activity.service.code
        queries[d.booking.pk] = (
            DayQuery(d.booking.child_id, code, d.day, UNJUSTIFIED_ABSENCE),
            DayQuery(d.booking.child_id, code, d.day, justified_kind, illness_start=plan.first),
        )
    prices = day_prices(plan.child.household, [q for pair in queries.values() for q in pair])
    for d in plan.days:
        pair = queries.get(d.booking.pk)
        d.consequence = consequence_text(
            what=d.what,
            unjustified=prices.get(pair[0]) if pair else None,
            justified=prices.get(pair[1]) if pair else None,
            justification=d.justification,
        )


# --- writing ------------------------------------------------------------------------------


@dataclass
class Declared:
    declaration: AbsenceDeclaration
    absences: list[Absence]
    cancelled: list[Booking]
    plan: AbsencePlan


def _keep_upload(household, info, *, child, reason, first, last, user):
    """A new justification is kept with the family's documents (offered for
    the next absence); None when the documents space refuses it (quota): the
    declaration then keeps its own copy."""

    kind = "certificat_medical" if reason == AbsenceReason.ILLNESS else "justificatif_absence"
    period = (
        f"le {format_date(first)}"
        if first == last
        else f"du {format_date(first)} au {format_date(last)}"
    )
    try:
        return store_checked_document(
            household=household,
            uploaded_by=user,
            checked=info,
            kind=kind,
            title=f"Absence de {child.first_name} {period}",
            child=child if child.household_id == household.pk else None,
        )
    except ValidationError:
        return None


@transaction.atomic
def declare_absence(
    *,
    child,
    first: date | None,
    last: date | None,
    reason: str,
    comment: str = "",
    upload=None,
    user=None,
    now: datetime | None = None,
    stored_document: int | str | None = None,
) -> Declared:
    """Declare `child` absent from `first` to `last` (the caller scoped `child`
    to the family). All or nothing; raises BookingRefused (French).

    The justification is a new `upload` (then kept with the family's
    documents, offered next time) or `stored_document`, the id of one of the
    family's valid stored documents of an absence type (deposited once,
    used everywhere)."""

    now = now or timezone.now()
    problem = period_problem(first, last)
    if problem:
        raise BookingRefused(problem)
    if reason not in AbsenceReason.values:
        raise BookingRefused("Choisissez le motif de l'absence.")
    plan = plan_absence(child=child, first=first, last=last, reason=reason, now=now, lock=True)
    if not plan.days:
        raise BookingRefused(
            f"{child.first_name} n'a aucun jour réservé du {format_date(first)} au "
            f"{format_date(last)}."
        )
    if plan.refused:
        raise BookingRefused(
            "Aucune absence n'a été enregistrée : "
            + " ; ".join(
                f"{format_date(d.day)} ({d.service_name}) : {d.consequence}" for d in plan.refused
            )
            + "."
        )
    household = family_household(user, child)
    document = None
    if stored_document not in (None, "") and upload is None and plan.takes_justification:
        document = stored_absence_document(household, stored_document, now)
    if plan.needs_justification and upload is None and document is None:
        raise BookingRefused("Un justificatif est obligatoire pour au moins un des services.")
    info = None
    if upload is not None and plan.takes_justification:
        try:
            info = check_upload(upload, limit=ATTACHMENT_MAX_BYTES)
        except ValidationError as exc:
            raise BookingRefused(exc.messages[0]) from None
        document = _keep_upload(
            household, info, child=child, reason=reason, first=first, last=last, user=user
        )
    declaration = AbsenceDeclaration.objects.create(
        child=child,
        first_day=first,
        last_day=last,
        reason=reason,
        comment=(comment or "")[:2000],
        reported_by=user,
    )
    absences, cancelled, stored = [], [], ""
    for d in plan.days:
        b = d.booking
        if d.what == CANCEL:
            b.status = Booking.Status.CANCELLED
            b.cancelled_at = now
            b.save(update_fields=["status", "cancelled_at"])
            hand_over_place(b.slot, now)
            cancelled.append(b)
            continue
        absence = Absence(
            booking=b,
            declaration=declaration,
            reason=reason,
            comment=declaration.comment,
            reported_by=user,
        )
        if document is not None and d.justification != "none":
            # The family's stored document's own file: one file for the whole
            # declaration and the documents page.
            absence.justification_name = (
                info.original_name if info is not None else str(document)
            )[:120]
            absence.justification_type = document.content_type
            absence.justification.name = document.file.name
        elif info is not None and d.justification != "none":
            absence.justification_name = info.original_name
            absence.justification_type = info.content_type
            if not stored:  # one file on disk for the whole declaration
                absence.justification.save(info.stored_name, info.as_file(), save=False)
                stored = absence.justification.name
            else:
                absence.justification.name = stored
        absence.save()
        absences.append(absence)
    _acknowledge(declaration, plan)
    return Declared(declaration, absences, cancelled, plan)


@transaction.atomic
def decide_declaration(
    *, declaration: AbsenceDeclaration, decision: str, actor, comment: str = "", modules=None
) -> list[Absence]:
    """Staff: the same decision for every day of the declaration still pending
    (only the days of services in `modules`, the staff member's areas, when given)."""
    pending = declaration.absences.filter(decision=Absence.Decision.PENDING)
    if modules is not None:
        pending = pending.filter(booking__slot__activity__service__module__in=list(modules))
    pending = list(pending.order_by("pk"))
    if not pending:
        raise BookingRefused("Cette déclaration a déjà été examinée.")
    return [
        decide_absence(absence=a, decision=decision, actor=actor, comment=comment) for a in pending
    ]


def _acknowledge(declaration: AbsenceDeclaration, plan: AbsencePlan) -> None:
    child = declaration.child
    to = selectors.family_emails([child.pk]).get(child.pk, [])
    if not to:
        return
    queue_mail(
        to=to,
        subject=f"Absence de {child.first_name} enregistrée",
        template="booking/email/absence_declaration.txt",
        context={
            "commune": connection.tenant,
            "declaration": declaration,
            "child": child,
            "days": plan.days,
            "portal_url": portal_url(),
        },
    )


# --- staff: the declarations of the families ---------------------------------------------


def staff_declarations(modules, *, pending_only: bool = True, limit: int = 200) -> list:
    """Declarations with at least one day in a service of `modules` (the staff
    member's areas), newest first, each with `.days` (its absences in those
    modules, with their service) and `.pending` (how many still to examine).
    Three queries, whatever the number of declarations."""

    modules = list(modules)
    in_areas = Absence.objects.filter(
        booking__slot__activity__service__module__in=modules
    ).select_related("booking__slot__activity__service")
    qs = AbsenceDeclaration.objects.filter(
        absences__booking__slot__activity__service__module__in=modules,
        **({"absences__decision": Absence.Decision.PENDING} if pending_only else {}),
    )
    ids = list(qs.values_list("pk", flat=True).distinct()[: limit * 4])
    declarations = list(
        AbsenceDeclaration.objects.filter(pk__in=ids)
        .select_related("child__household")
        .prefetch_related(Prefetch("absences", queryset=in_areas.order_by("booking__slot__day")))
        .order_by("-reported_at", "-pk")[:limit]
    )
    for d in declarations:
        d.days = list(d.absences.all())
        d.pending = sum(1 for a in d.days if a.decision == Absence.Decision.PENDING)
        d.services = sorted({a.booking.slot.activity.service.name for a in d.days})
    return declarations


def pending_declarations_count(modules) -> int:
    """Declarations with a day still to examine in `modules` (one query)."""
    return (
        AbsenceDeclaration.objects.filter(
            absences__booking__slot__activity__service__module__in=list(modules),
            absences__decision=Absence.Decision.PENDING,
        )
        .distinct()
        .count()
    )


def staff_declaration(pk, modules) -> AbsenceDeclaration:
    """One declaration with a day in `modules`, else Http404 (another area's
    declaration looks like none)."""

    declaration = (
        AbsenceDeclaration.objects.filter(
            pk=pk, absences__booking__slot__activity__service__module__in=list(modules)
        )
        .select_related("child__household", "reported_by")
        .distinct()
        .first()
    )
    if declaration is None:
        raise Http404
    return declaration


@dataclass
class StaffDay:
    absence: Absence
    consequence: str
    decidable: bool

    @property
    def day(self) -> date:
        return self.absence.booking.slot.day

    @property
    def service_name(self) -> str:
        return self.absence.booking.slot.activity.service.name


def declaration_days(declaration: AbsenceDeclaration, modules) -> list[StaffDay]:
    """Each day of `declaration` in `modules`, with what billing does with it
    (from the town's billing rules, core.day_prices), given the decision taken
    or, while pending, for either decision."""

    absences = list(
        declaration.absences.filter(booking__slot__activity__service__module__in=list(modules))
        .select_related("booking__slot__activity__service", "decided_by")
        .order_by("booking__slot__day", "booking__slot__activity__service__position", "pk")
    )
    justified_kind = ILLNESS if declaration.reason == AbsenceReason.ILLNESS else JUSTIFIED_ABSENCE
    queries = {}
    for a in absences:
        code, day = a.booking.slot.activity.service.code, a.booking.slot.day
        queries[a.pk] = (
            DayQuery(a.booking.child_id, code, day, UNJUSTIFIED_ABSENCE),
            DayQuery(
                a.booking.child_id, code, day, justified_kind, illness_start=declaration.first_day
            ),
        )
    prices = day_prices(declaration.child.household, [q for pair in queries.values() for q in pair])
    options = {}
    out = []
    for a in absences:
        service = a.booking.slot.activity.service
        if service.pk not in options:
            options[service.pk] = options_of(service).justification
        unjustified, justified = (prices.get(q) for q in queries[a.pk])
        out.append(
            StaffDay(
                a,
                decided_consequence(
                    decision=a.decision,
                    unjustified=unjustified,
                    justified=justified,
                    justification=options[service.pk],
                ),
                a.decision == Absence.Decision.PENDING,
            )
        )
    return out


def decided_consequence(
    *, decision: str, unjustified=None, justified=None, justification="optional"
):
    """What billing does with one absent day, for staff (pure)."""
    if decision == Absence.Decision.PENDING:
        return consequence_text(
            what=ABSENCE, unjustified=unjustified, justified=justified, justification=justification
        )
    price = justified if decision == Absence.Decision.JUSTIFIED else unjustified
    if price is None:
        return "pas de facturation par le portail pour ce service"
    if price.amount == 0:
        return "non facturé"
    carence = decision == Absence.Decision.JUSTIFIED and "carence" in price.explanation
    return f"facturé {_euros(price.amount)}" + (" (jour de carence)" if carence else "")
