"""What a day costs a family, asked by the platform without naming a module.

The family calendar, the basket of changes and the absence form show the
price of a day (and what an absence will cost) from the town's billing rules.
The platform may not import a module (decisions/0001), so it asks every app
config that defines `family_day_prices(household, queries)` — today the
billing module — and only for a town that has that module switched on. A town
without billing simply shows no price.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.apps import apps
from django.db import connection

from core import town_config
from core.modules import ServiceModuleConfig

# What happened (or would happen) to a booked day, as billing sees it.
BOOKED = "booked"
UNJUSTIFIED_ABSENCE = "unjustified_absence"
ILLNESS = "illness"
JUSTIFIED_ABSENCE = "justified_absence"


@dataclass(frozen=True)
class DayQuery:
    child_id: int
    service_code: str
    day: date
    attendance: str = BOOKED
    illness_start: date | None = None  # first day of an illness absence (carence)


@dataclass(frozen=True)
class DayPrice:
    amount: Decimal
    explanation: str  # French, the steps of the computation


def _enabled(cfg, commune) -> bool:
    if not isinstance(cfg, ServiceModuleConfig):
        return True
    return town_config.has_module(commune, cfg.module_code)


def day_prices(household, queries: Iterable[DayQuery], commune=None) -> dict[DayQuery, DayPrice]:
    """Price of each query for `household` (missing: no price known)."""
    queries = list(dict.fromkeys(queries))
    if not queries or household is None:
        return {}
    commune = commune or getattr(connection, "tenant", None)
    out: dict[DayQuery, DayPrice] = {}
    for cfg in apps.get_app_configs():
        hook = getattr(cfg, "family_day_prices", None)
        if hook is None or not _enabled(cfg, commune):
            continue
        out.update(hook(household, queries, commune=commune))
    return out


def sum_prices(prices: Iterable[DayPrice | None]) -> Decimal:
    return sum((p.amount for p in prices if p is not None), Decimal(0))
