"""Billing's answer to the platform's question "what does this day cost this
family?" (core.day_prices): the family calendar, the basket of changes and the
absence form show it. The price is `pricing.price_session()`'s, the function
the invoicing run uses, with the household's quotient familial, residence and
the child's rank among the household's children registered to the service
(eldest first, as `lines.child_ranks` ranks them on the invoice)."""

from __future__ import annotations

from collections import defaultdict

from booking.models import Registration
from core.day_prices import DayPrice, DayQuery
from families.models import Child

from .pricing import Attendance, PricingError, price_session
from .selectors import household_facts
from .services import town_settings


def family_day_prices(household, queries: list[DayQuery], *, commune) -> dict[DayQuery, DayPrice]:
    tariffs, _ = town_settings(commune)
    facts = household_facts([household.pk], commune=commune).get(household.pk)
    if facts is None:
        return {}
    codes = {q.service_code for q in queries}
    registered: dict[str, list[tuple]] = defaultdict(list)
    rows = (
        Registration.objects.filter(
            child__household=household,
            service__code__in=codes,
            status__in=[Registration.Status.ACCEPTED, Registration.Status.PENDING],
        )
        .values_list("service__code", "child_id", "child__birth_date")
        .distinct()
    )
    for code, child_id, birth in rows:
        registered[code].append((birth, child_id))
    ranks = {}
    for code, kids in registered.items():
        for rank, (_, child_id) in enumerate(sorted(set(kids)), start=1):
            ranks[(code, child_id)] = rank
    if not ranks:  # no registration at all: still rank the household's children
        kids = Child.objects.filter(household=household).order_by("birth_date", "id")
        for rank, child_id in enumerate(kids.values_list("id", flat=True), start=1):
            for code in codes:
                ranks[(code, child_id)] = rank
    out = {}
    for q in queries:
        if q.service_code not in tariffs.services:
            continue
        try:
            line = price_session(
                tariffs.tariff(q.service_code),
                day=q.day,
                qf=facts.qf,
                child_rank=ranks.get((q.service_code, q.child_id), 1),
                resident=facts.resident,
                attendance=Attendance(q.attendance),
                illness_start=q.illness_start or q.day,
            )
        except PricingError:
            continue  # no tariff in force that day: no price shown
        out[q] = DayPrice(line.amount, line.explanation)
    return out
