"""Reminders and unpaid follow-up (pure): the per-town schedule and the next step.

    module_settings:
      billing:
        reminders: {first_days: 15, second_days: 30, handover_days: 60}

Days count from the invoice's due date. An unpaid invoice gets reminder 1 at
D+first, reminder 2 at D+second, then is handed over to the trésorerie
(enforced recovery) at D+handover. One step per run and invoice, in order:
a run that was missed catches up one step a day, never two e-mails at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

FIRST, SECOND, HANDOVER = "reminder_1", "reminder_2", "handover"
STAGES = (FIRST, SECOND, HANDOVER)
LABELS = {
    FIRST: "première relance",
    SECOND: "seconde relance",
    HANDOVER: "transmise au Trésor public",
}


@dataclass(frozen=True)
class Schedule:
    first_days: int = 15
    second_days: int = 30
    handover_days: int = 60

    def threshold(self, stage: str, due: date) -> date:
        days = {FIRST: self.first_days, SECOND: self.second_days, HANDOVER: self.handover_days}
        return due + timedelta(days=days[stage])


def schedule_problems(section: Mapping | None) -> list[str]:
    if not section:
        return []
    s = Schedule(
        **{k: section[k] for k in ("first_days", "second_days", "handover_days") if k in section}
    )
    if not 0 < s.first_days < s.second_days < s.handover_days:
        return [
            "reminders : les délais doivent se suivre (première relance < seconde relance "
            "< transmission au Trésor public), en jours après l'échéance."
        ]
    return []


def parse_schedule(section: Mapping | None) -> Schedule:
    section = section or {}
    return Schedule(
        **{
            k: int(section[k])
            for k in ("first_days", "second_days", "handover_days")
            if k in section
        }
    )


def next_stage(*, due: date, today: date, done: frozenset[str] | set[str], schedule: Schedule):
    """The step this invoice takes today, or None (done: the steps already taken)."""
    for stage in STAGES:
        if stage in done:
            continue
        return stage if today >= schedule.threshold(stage, due) else None
    return None
