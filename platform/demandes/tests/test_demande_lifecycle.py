"""The request life cycle (demandes.rules.transition): every status x action x actor."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from demandes.rules import (
    FINAL,
    Action,
    Status,
    TransitionError,
    allowed_actions,
    transition,
)

S, A = Status, Action

# (from, action, by_staff) -> to ; everything not listed is refused.
ALLOWED = {
    (S.DRAFT, A.SUBMIT, False): S.SUBMITTED,
    (S.DRAFT, A.CANCEL, False): S.CANCELLED,
    (S.SUBMITTED, A.START_REVIEW, True): S.IN_REVIEW,
    (S.SUBMITTED, A.ACCEPT, True): S.ACCEPTED,
    (S.SUBMITTED, A.REFUSE, True): S.REFUSED,
    (S.SUBMITTED, A.CANCEL, False): S.CANCELLED,
    (S.IN_REVIEW, A.ACCEPT, True): S.ACCEPTED,
    (S.IN_REVIEW, A.REFUSE, True): S.REFUSED,
    (S.IN_REVIEW, A.CANCEL, False): S.CANCELLED,
}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("by_staff", [True, False])
def test_every_transition(status, action, by_staff):
    expected = ALLOWED.get((status, action, by_staff))
    if expected is None:
        with pytest.raises(TransitionError):
            transition(status, action, by_staff=by_staff, message="motif")
    else:
        assert transition(status, action, by_staff=by_staff, message="motif") == expected


@pytest.mark.parametrize("message", ["", "   ", "\n"])
def test_refusal_needs_a_reason(message):
    with pytest.raises(TransitionError, match="motif du refus"):
        transition("submitted", "refuse", by_staff=True, message=message)


@pytest.mark.parametrize(
    "status, action, by_staff, fragment",
    [
        ("accepted", "cancel", False, "close"),
        ("submitted", "accept", False, "réservée aux services"),
        ("submitted", "cancel", True, "réservée à la famille"),
        ("in_review", "start_review", True, "pas possible"),
        ("nonsense", "accept", True, "inconnu"),
    ],
)
def test_messages_are_french(status, action, by_staff, fragment):
    with pytest.raises(TransitionError, match=fragment):
        transition(status, action, by_staff=by_staff, message="x")


def test_allowed_actions_match_the_table():
    for status in Status:
        for by_staff in (True, False):
            offered = set(allowed_actions(status, by_staff=by_staff))
            expected = {a for (s, a, staff) in ALLOWED if s == status and staff == by_staff}
            assert offered == expected


@given(
    start=st.sampled_from(list(Status)),
    steps=st.lists(st.tuples(st.sampled_from(list(Action)), st.booleans()), max_size=12),
)
def test_final_statuses_never_change_and_every_walk_stays_in_the_table(start, steps):
    status = start
    for action, by_staff in steps:
        try:
            new = transition(status, action, by_staff=by_staff, message="motif")
        except TransitionError:
            continue
        assert status not in FINAL
        assert ALLOWED[(status, action, by_staff)] == new
        status = new


def test_the_model_stores_exactly_the_rule_statuses():
    from demandes.models import Demande

    assert set(Demande.Status.values) == {s.value for s in Status}
