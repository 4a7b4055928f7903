"""Read paths of the back-office (current town's schema). Constant query counts:
every list is one query plus prefetches, whatever the number of rows."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Prefetch, Q, Sum
from django.shortcuts import get_object_or_404

from booking.models import Activity, Booking, DaySlot, Registration
from demandes.selectors import demandes_for_staff
from documents.models import Document
from families.models import Adult, Child, EntourageMember, Household


def search_households(q: str):
    qs = Household.objects.order_by("name", "id")
    q = (q or "").strip()
    if q:
        words = q.split()
        for w in words:
            qs = qs.filter(
                Q(name__icontains=w)
                | Q(adults__first_name__icontains=w)
                | Q(adults__last_name__icontains=w)
                | Q(adults__email__icontains=w)
                | Q(children__first_name__icontains=w)
                | Q(children__last_name__icontains=w)
            )
        qs = qs.distinct()
    return qs.prefetch_related(
        Prefetch("adults", queryset=Adult.objects.order_by("id")),
        Prefetch("children", queryset=Child.objects.order_by("birth_date", "id")),
    )


def household_file(pk: int) -> Household:
    """Everything staff may see of a household (never the document vault)."""
    qs = Household.objects.select_related("payer").prefetch_related(
        Prefetch(
            "adults",
            queryset=Adult.objects.select_related("user", "user__franceconnect").order_by("id"),
        ),
        Prefetch(
            "children",
            queryset=Child.objects.select_related("health")
            .prefetch_related("guardians")
            .order_by("birth_date", "id"),
        ),
        Prefetch("entourage", queryset=EntourageMember.objects.order_by("last_name", "id")),
    )
    return get_object_or_404(qs, pk=pk)


def demandes_of(household, user):
    return demandes_for_staff(user).filter(household=household).order_by("-created_at")[:50]


def bookings_per_day(today: date, days: int = 14) -> list[tuple[str, int]]:
    rows = dict(
        Booking.objects.filter(
            status="booked", slot__day__gte=today, slot__day__lt=today + timedelta(days=days)
        )
        .values_list("slot__day")
        .annotate(n=Count("id"))
        .values_list("slot__day", "n")
    )
    return [
        ((today + timedelta(days=i)).strftime("%d/%m"), rows.get(today + timedelta(days=i), 0))
        for i in range(days)
    ]


def occupancy_per_site(today: date, days: int = 7) -> list[tuple[str, int]]:
    rows = (
        DaySlot.objects.filter(day__gte=today, day__lt=today + timedelta(days=days))
        .values("activity__site__name")
        .annotate(booked=Sum("booked"), capacity=Sum("capacity"))
        .order_by("activity__site__name")
    )
    return [
        (
            r["activity__site__name"] or "Sans lieu",
            round(100 * r["booked"] / r["capacity"]) if r["capacity"] else 0,
        )
        for r in rows
    ]


# --- the family record: everything in one place, constant query counts ------------------


def family_bookings(household, today: date, *, past_days: int = 14, next_days: int = 60):
    """The household's bookings around today (one query)."""

    return list(
        Booking.objects.filter(
            child__household=household,
            slot__day__gte=today - timedelta(days=past_days),
            slot__day__lte=today + timedelta(days=next_days),
        )
        .select_related("child", "slot__activity__service", "absence")
        .order_by("slot__day", "child__first_name", "id")[:300]
    )


def family_registrations(household):
    return list(
        Registration.objects.filter(child__household=household)
        .select_related("child", "service", "site")
        .order_by("-school_year", "child__first_name", "id")[:100]
    )


def family_documents(household):
    return list(
        Document.objects.filter(household=household)
        .select_related("child")
        .order_by("-created_at", "-id")[:100]
    )


def bookable_activities(user):
    """Activities staff may book for a family: those of the modules they work in."""

    return [
        a
        for a in Activity.objects.filter(is_active=True)
        .select_related("service", "site")
        .order_by("service__position", "name")
        if user.works_in(a.service.module)
    ]
