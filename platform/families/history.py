"""The family's history of what staff did for it (who, when, why).

Every act of an agent on a family's behalf (booking or cancelling by phone,
deadline overrides, absences declared at the desk, registrations validated,
payments at the desk) calls `record(...)` inside the transaction that does it,
so the act and its trace commit together. It lives with the families, below
every layer that acts for one (booking, the back-office, the modules).
"""

from __future__ import annotations

from families.models import StaffAction


def record(*, household, actor, action: str, summary: str, reason: str = ""):
    label = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        name = actor.get_full_name() or actor.get_username()
        label = f"{name} ({actor.get_role_display()})"
    return StaffAction.objects.create(
        household_id=getattr(household, "pk", household),
        actor=actor if label else None,
        actor_label=label[:200],
        action=action[:60],
        summary=summary,
        reason=reason or "",
    )


def of_household(household, limit: int = 100):
    return StaffAction.objects.filter(household=household).order_by("-created_at", "-id")[:limit]
