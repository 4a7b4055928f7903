"""The basket of changes: days ticked on the family calendar, in any service and
for any child, listed with the price difference, confirmed ONCE.

A basket holds changes of several services. Confirming applies each service's
changes with `booking.changes.apply_changes` (the grid's write path), each in
its own transaction: all-or-nothing PER SERVICE — a refused service keeps none
of its days, and the other services keep theirs — with the same per-day
outcomes, waiting-list choice and acknowledgement e-mail as the grid. Services
are applied in one fixed order (position, id) and `apply_changes` takes places
in (activity, day) order, so two overlapping confirmations never deadlock.

The basket lives in the session as short keys "child:activity:YYYY-MM-DD:book"
(so it works without JavaScript: every tick is a plain form post).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from booking.changes import ChangesApplied, ChangesRefused, apply_changes
from booking.models import Activity
from booking.rules import Action, Change
from core.day_prices import DayQuery, day_prices

SESSION_KEY = "family_basket"
MAX_ITEMS = 400  # a school year of two services for two children fits


# --- pure ---------------------------------------------------------------------------------


def change_key(change: Change) -> str:
    return f"{change.child_id}:{change.activity_id}:{change.day.isoformat()}:{change.action}"


def parse_key(raw: str) -> Change | None:
    """'12:3:2027-03-15:book' -> Change; anything else -> None (never an error)."""
    parts = str(raw).split(":")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    try:
        return Change(int(parts[0]), int(parts[1]), date.fromisoformat(parts[2]), Action(parts[3]))
    except ValueError:
        return None


def parse_keys(raws: Iterable[str]) -> list[Change]:
    return sorted({c for c in (parse_key(r) for r in raws) if c is not None})


def toggle(basket: Iterable[Change], wanted: Iterable[Change], dropped: Iterable[Change] = ()):
    """The basket after adding `wanted` and removing `dropped`. A change and its
    opposite for the same day cancel out (book then cancel = nothing to do)."""
    out = {(c.child_id, c.activity_id, c.day): c for c in basket}
    for c in dropped:
        if out.get((c.child_id, c.activity_id, c.day)) == c:
            del out[(c.child_id, c.activity_id, c.day)]
    for c in wanted:
        key = (c.child_id, c.activity_id, c.day)
        if key in out and out[key].action is not c.action:
            del out[key]
        else:
            out[key] = c
    return sorted(out.values())[:MAX_ITEMS]


def by_service(changes: Iterable[Change], service_of: Mapping[int, int]) -> dict[int, list[Change]]:
    """Changes grouped by the service of their activity (unknown activities dropped)."""
    groups: dict[int, list[Change]] = defaultdict(list)
    for c in changes:
        service_id = service_of.get(c.activity_id)
        if service_id is not None:
            groups[service_id].append(c)
    return dict(groups)


def price_difference(lines: Iterable[BasketLine]) -> Decimal:
    """What the basket adds to (books) or removes from (cancels) the bills."""
    total = Decimal(0)
    for line in lines:
        if line.price is None:
            continue
        total += line.price if line.change.action is Action.BOOK else -line.price
    return total


# --- reading a basket ---------------------------------------------------------------------


@dataclass(frozen=True)
class BasketLine:
    change: Change
    child_name: str
    service_name: str
    service_code: str
    activity_name: str
    price: Decimal | None = None
    explanation: str = ""

    @property
    def key(self) -> str:
        return change_key(self.change)


@dataclass
class Basket:
    lines: list[BasketLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return price_difference(self.lines)

    @property
    def priced(self) -> bool:
        return any(line.price is not None for line in self.lines)

    def __len__(self) -> int:
        return len(self.lines)


def read_basket(changes: Iterable[Change], *, children: Mapping[int, object], household) -> Basket:
    """The basket's lines for the family's own children (others dropped), with
    the price of each day from the town's billing rules (core.day_prices)."""

    changes = [c for c in changes if c.child_id in children]
    activities = {
        a.pk: a
        for a in Activity.objects.filter(
            pk__in={c.activity_id for c in changes}, is_active=True
        ).select_related("service")
    }
    changes = [c for c in changes if c.activity_id in activities]
    queries = {
        c: DayQuery(c.child_id, activities[c.activity_id].service.code, c.day) for c in changes
    }
    prices = day_prices(household, queries.values())
    lines = []
    for c in sorted(changes, key=lambda c: (c.day, c.child_id, c.activity_id)):
        activity = activities[c.activity_id]
        price = prices.get(queries[c])
        lines.append(
            BasketLine(
                change=c,
                child_name=children[c.child_id].first_name,
                service_name=activity.service.name,
                service_code=activity.service.code,
                activity_name=activity.name,
                price=price.amount if price else None,
                explanation=price.explanation if price else "",
            )
        )
    return Basket(lines)


# --- confirming ---------------------------------------------------------------------------


@dataclass
class ServiceOutcome:
    service: object
    changes: list[Change]
    applied: ChangesApplied | None = None
    refused: ChangesRefused | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None


def confirm_basket(
    *,
    children: Mapping[int, object],
    changes: Iterable[Change],
    user=None,
    household=None,
    now: datetime | None = None,
    join_waiting_list: bool = False,
) -> list[ServiceOutcome]:
    """Apply the basket, all-or-nothing per service (see the module's docstring).
    `children` is id -> Child, ALREADY scoped to the family by the caller."""
    changes = [c for c in set(changes) if c.child_id in children]
    activities = {
        a.pk: a
        for a in Activity.objects.filter(
            pk__in={c.activity_id for c in changes}, is_active=True
        ).select_related("service")
    }
    groups = by_service(changes, {pk: a.service_id for pk, a in activities.items()})
    services = {a.service_id: a.service for a in activities.values()}
    outcomes = []
    for service_id in sorted(groups, key=lambda s: (services[s].position, s)):
        service = services[service_id]
        outcome = ServiceOutcome(service, sorted(groups[service_id]))
        try:
            outcome.applied = apply_changes(
                children=children,
                service=service,
                changes=outcome.changes,
                user=user,
                household=household,
                now=now,
                join_waiting_list=join_waiting_list,
            )
        except ChangesRefused as exc:
            outcome.refused = exc
        outcomes.append(outcome)
    return outcomes


def services_of(changes: Iterable[Change]) -> list:
    """The services the basket's days belong to (one query)."""
    activities = Activity.objects.filter(pk__in={c.activity_id for c in changes})
    return list({a.service_id: a.service for a in activities.select_related("service")}.values())


def remaining(basket: Iterable[Change], outcomes: Iterable[ServiceOutcome]) -> list[Change]:
    """What stays in the basket after confirming: the refused services' changes."""
    done = {c for o in outcomes if o.ok for c in o.changes}
    return [c for c in basket if c not in done]
