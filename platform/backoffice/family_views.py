"""The family record (/<town>/gestion/familles/<pk>/): everything staff need
when a parent phones or comes to the desk, in one place, and what they can do
for the family from there (book, cancel, declare an absence, validate a
registration; modules add their own sections, e.g. billing's invoices and
desk payment, through `staff_family_sections` on their AppConfig).

Query counts stay constant whatever the family's size (one query per section).
Health data only for staff holding the health area, and each display is
written to the access journal."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import fc_accounts
from accounts.permissions import staff_required
from audit import journal
from backoffice import selectors
from backoffice.family_forms import (
    StaffAbsenceForm,
    StaffBookForm,
    StaffCancelForm,
    StaffValidateForm,
)
from backoffice.models import AccessLog
from booking import on_behalf
from booking.models import Activity, Booking, Registration
from booking.services import BookingRefused
from core import contributions, town_config
from core.access import POST, STAFF, access
from families import history
from families.models import Adult, Household

HEALTH_AREA = "sante"


def family_sections(request, household) -> list:
    """Sections contributed by apps to a family's record (core.contributions)."""
    return contributions.staff_family_sections(request, household)


def franceconnect_accounts(request, household) -> list[dict]:
    """Each adult with an account, and the date its FranceConnect identity was
    linked (nothing else of the identity); empty when the town has not switched
    FranceConnect on and no account is linked. Read from the prefetched adults."""
    rows = []
    for adult in household.adults.all():
        if adult.user is None:
            continue
        link = getattr(adult.user, "franceconnect", None)
        rows.append({"adult": adult, "linked_at": link.linked_at if link else None})
    town_on = bool(town_config.section(request.commune, "franceconnect"))
    return rows if town_on or any(r["linked_at"] for r in rows) else []


@access(STAFF(), pk="household")
@never_cache
@staff_required()
def family(request, pk):
    household = selectors.household_file(pk)
    AccessLog.objects.create(user=request.user, household=household)
    today = timezone.localdate()
    children = list(household.children.all())
    health = request.user.works_in(HEALTH_AREA)
    if health and any(getattr(c, "health", None) for c in children):
        journal.record(
            actor=request.user,
            action=journal.VIEW_HEALTH,
            household=household,
            target="dossier famille",
            detail={"children": [c.pk for c in children]},
        )
    bookings = selectors.family_bookings(household, today)
    activities = selectors.bookable_activities(request.user)
    return render(
        request,
        "backoffice/family.html",
        {
            "household": household,
            "children": children,
            "health": health,
            "today": today,
            "upcoming": [b for b in bookings if b.slot.day >= today],
            "past": [b for b in bookings if b.slot.day < today],
            "can_act": {a.service.module for a in activities},
            "registrations": selectors.family_registrations(household),
            "documents": selectors.family_documents(household),
            "demandes": list(selectors.demandes_of(household, request.user)),
            "history": list(history.of_household(household)),
            "sections": family_sections(request, household),
            "franceconnect": franceconnect_accounts(request, household),
            "book_form": StaffBookForm(children=children, activities=activities),
            "absence_form": StaffAbsenceForm(),
        },
    )


def _back(pk):
    return redirect(reverse("backoffice:family", args=[pk]))


def _refused(request, pk, form_or_text):
    if isinstance(form_or_text, str):
        messages.error(request, form_or_text)
    else:
        for errors in form_or_text.errors.values():
            messages.error(request, errors[0])
    return _back(pk)


def _check_area(user, module: str) -> None:
    if not user.works_in(module):
        raise PermissionDenied


@access(STAFF(), methods=POST, pk="household")
@never_cache
@staff_required()
@require_POST
def family_act(request, pk):
    """One act for the family (`action`: book, cancel, absence, validate)."""

    household = get_object_or_404(Household, pk=pk)
    action = request.POST.get("action", "")
    try:
        if action == "book":
            children = list(household.children.all())
            activities = selectors.bookable_activities(request.user)
            form = StaffBookForm(request.POST, children=children, activities=activities)
            if not form.is_valid():
                return _refused(request, pk, form)
            child = next(c for c in children if c.pk == form.cleaned_data["child"])
            activity = Activity.objects.select_related("service").get(
                pk=form.cleaned_data["activity"]
            )
            _check_area(request.user, activity.service.module)
            outcome = on_behalf.book_for_family(
                child=child,
                activity=activity,
                day=form.cleaned_data["day"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(
                request,
                f"{child.first_name} : {outcome.message}. La famille est prévenue par courriel.",
            )
        elif action in ("cancel", "absence"):
            form = (StaffCancelForm if action == "cancel" else StaffAbsenceForm)(request.POST)
            if not form.is_valid():
                return _refused(request, pk, form)
            booking = get_object_or_404(
                Booking.objects.select_related("slot__activity__service", "child"),
                pk=form.cleaned_data["booking"],
                child__household=household,
            )
            _check_area(request.user, booking.slot.activity.service.module)
            if action == "cancel":
                on_behalf.cancel_for_family(
                    booking=booking, actor=request.user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, "Réservation annulée ; la famille est prévenue.")
            else:
                on_behalf.declare_absence_for_family(
                    booking=booking,
                    actor=request.user,
                    reason_code=form.cleaned_data["absence_reason"],
                    comment=form.cleaned_data["comment"],
                )
                messages.success(request, "Absence déclarée ; la famille est prévenue.")
        elif action == "validate":
            form = StaffValidateForm(request.POST)
            if not form.is_valid():
                return _refused(request, pk, form)
            registration = get_object_or_404(
                Registration.objects.select_related("service", "child"),
                pk=form.cleaned_data["registration"],
                child__household=household,
            )
            _check_area(request.user, registration.service.module)
            on_behalf.validate_registration_for_family(
                registration=registration, actor=request.user, note=form.cleaned_data["note"]
            )
            messages.success(request, "Inscription validée ; la famille est prévenue.")
        else:
            return _refused(request, pk, "Action inconnue.")
    except BookingRefused as exc:
        return _refused(request, pk, str(exc))
    return _back(pk)


@access(STAFF(), methods=POST, pk="household")
@never_cache
@staff_required()
@require_POST
def family_franceconnect_unlink(request, pk):
    """« Délier FranceConnect »: at the family's request, an agent removes the
    FranceConnect identity linked to one adult's account (the family's own
    message sends them to the town hall for it). The box « Je confirme » must be
    ticked; the act is written to the access journal (who, when, which account).
    The identity's next FranceConnect sign-in comes back to the first-use choice."""

    household = get_object_or_404(Household, pk=pk)
    adult_id = request.POST.get("adult", "")
    adult = None
    if adult_id.isascii() and adult_id.isdigit() and len(adult_id) < 10:
        adult = (
            Adult.objects.select_related("user").filter(household=household, pk=adult_id).first()
        )
    if adult is None or adult.user is None:
        return _refused(request, pk, "Choisissez un adulte du foyer qui a un compte.")
    if request.POST.get("confirm") != "oui":
        return _refused(
            request,
            pk,
            "Cochez « Je confirme » pour délier FranceConnect du compte de "
            f"{adult.first_name} {adult.last_name}.",
        )
    removed = fc_accounts.unlink(user=adult.user)
    if removed is None:
        messages.info(
            request,
            f"Le compte de {adult.first_name} {adult.last_name} n'est pas relié à FranceConnect.",
        )
        return _back(pk)
    journal.record(
        actor=request.user,
        action=journal.UNLINK_FRANCECONNECT,
        household=household,
        target=adult.user,
        detail={"adult": adult.pk, "linked_at": removed.linked_at.isoformat()},
    )
    messages.success(
        request,
        f"FranceConnect est délié du compte de {adult.first_name} {adult.last_name}. "
        "À sa prochaine connexion avec FranceConnect, la personne choisira de relier "
        "son compte (avec son mot de passe) ou d'en créer un.",
    )
    return _back(pk)
