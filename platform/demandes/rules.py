"""Life cycle of a request: a PURE function (no ORM, no request).

    brouillon ──submit──▶ envoyée ──start_review──▶ en cours d'examen
        │                   │  ╲                        │
      cancel          accept/refuse/cancel        accept/refuse/cancel
        ▼                   ▼                           ▼
     annulée        acceptée / refusée / annulée   (same)

Families submit and cancel (withdrawing a request is always possible until it
is decided); staff take it in review, accept or refuse. Accepted, refused and
cancelled are final. A refusal must say why (the family has a right to know).
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class Action(StrEnum):
    SUBMIT = "submit"
    START_REVIEW = "start_review"
    ACCEPT = "accept"
    REFUSE = "refuse"
    CANCEL = "cancel"


FINAL = frozenset({Status.ACCEPTED, Status.REFUSED, Status.CANCELLED})
STAFF_ACTIONS = frozenset({Action.START_REVIEW, Action.ACCEPT, Action.REFUSE})
FAMILY_ACTIONS = frozenset({Action.SUBMIT, Action.CANCEL})

_TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.DRAFT, Action.SUBMIT): Status.SUBMITTED,
    (Status.DRAFT, Action.CANCEL): Status.CANCELLED,
    (Status.SUBMITTED, Action.START_REVIEW): Status.IN_REVIEW,
    (Status.SUBMITTED, Action.ACCEPT): Status.ACCEPTED,
    (Status.SUBMITTED, Action.REFUSE): Status.REFUSED,
    (Status.SUBMITTED, Action.CANCEL): Status.CANCELLED,
    (Status.IN_REVIEW, Action.ACCEPT): Status.ACCEPTED,
    (Status.IN_REVIEW, Action.REFUSE): Status.REFUSED,
    (Status.IN_REVIEW, Action.CANCEL): Status.CANCELLED,
}


class TransitionError(ValueError):
    """The action is not possible; the message is French, for the user."""


def transition(status: str, action: str, *, by_staff: bool, message: str = "") -> Status:
    """The status after `action`, or TransitionError with a French message."""
    try:
        status, action = Status(status), Action(action)
    except ValueError:
        raise TransitionError("Action ou statut inconnu.") from None
    if by_staff and action not in STAFF_ACTIONS:
        raise TransitionError("Cette action est réservée à la famille.")
    if not by_staff and action not in FAMILY_ACTIONS:
        raise TransitionError("Cette action est réservée aux services de la mairie.")
    if status in FINAL:
        raise TransitionError("Cette demande est close : elle ne peut plus changer.")
    new = _TRANSITIONS.get((status, action))
    if new is None:
        raise TransitionError("Cette action n'est pas possible pour une demande dans cet état.")
    if action == Action.REFUSE and not message.strip():
        raise TransitionError("Indiquez le motif du refus.")
    return new


def allowed_actions(status: str, *, by_staff: bool) -> list[Action]:
    """Actions offered to the user (buttons), in a stable order."""
    actions = STAFF_ACTIONS if by_staff else FAMILY_ACTIONS
    return [a for a in Action if a in actions and (Status(status), a) in _TRANSITIONS]
