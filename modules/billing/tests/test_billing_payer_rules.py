"""Who pays a booked day (separated parents): the pure rule, exhaustively."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from modules.billing.lines import BookingFact, HouseholdFacts, assign_payers, build_drafts
from modules.billing.payer_rules import (
    ALTERNATE_WEEKS,
    BOOKER,
    HOME,
    SPLIT,
    WEEKDAYS,
    Rule,
    RuleError,
    Share,
    check_rule,
    describe,
    payer_shares,
    share_amount,
)

A, B, HOME_ID = 10, 20, 10
MON = date(2027, 3, 15)


def shares(rule, day=MON, booked_by=None):
    return payer_shares(rule, day=day, home_household=HOME_ID, booked_by_household=booked_by)


def test_no_rule_is_todays_behaviour_the_home_household_pays_everything():
    for booked_by in (None, A, B, 99):
        assert shares(None, booked_by=booked_by) == (Share(HOME_ID, D(100)),)


def test_household_a_only_pays_every_day_whoever_books():
    rule = Rule(HOME, household_a=B)
    for offset in range(14):
        for booked_by in (None, A, B):
            day = MON + timedelta(days=offset)
            assert shares(rule, day, booked_by) == (Share(B, D(100)),)


@pytest.mark.parametrize(
    "booked_by, payer",
    [(A, A), (B, B), (None, A), (99, A)],  # staff or a stranger: household A
)
def test_the_parent_who_booked_pays(booked_by, payer):
    assert shares(Rule(BOOKER, household_a=A, household_b=B), booked_by=booked_by) == (
        Share(payer, D(100)),
    )


def test_alternate_weeks_follow_the_calendar_whoever_books():
    rule = Rule(ALTERNATE_WEEKS, household_a=A, household_b=B, reference_monday=MON)
    for week in range(-6, 7):
        for weekday in range(7):
            day = MON + timedelta(weeks=week, days=weekday)
            expected = A if week % 2 == 0 else B
            for booked_by in (None, A, B):
                assert shares(rule, day, booked_by) == (Share(expected, D(100)),)


def test_given_weekdays_are_household_as_the_others_bs():
    rule = Rule(WEEKDAYS, household_a=A, household_b=B, weekdays_a=frozenset({0, 1, 2}))
    for weekday in range(7):
        day = MON + timedelta(days=weekday)
        assert shares(rule, day, B) == (Share(A if weekday < 3 else B, D(100)),)


@pytest.mark.parametrize("percent", [1, 30, 50, 99])
def test_a_split_day_has_two_shares_adding_up_to_the_whole(percent):
    rule = Rule(SPLIT, household_a=A, household_b=B, percent_a=percent)
    got = shares(rule)
    assert got == (Share(A, D(percent), 1), Share(B, D(100 - percent), 2))
    assert sum(s.percent for s in got) == 100


def test_share_amounts_to_the_cent():
    assert share_amount(D("3.20"), D(100)) == D("3.20")
    assert share_amount(D("3.20"), D(50)) == D("1.60")
    assert share_amount(D("3.25"), D(50)) == D("1.63")  # half up
    assert share_amount(D("3.25"), D(30)) == D("0.98")


@pytest.mark.parametrize(
    "rule, message",
    [
        (Rule("nobody", household_a=A), "inconnue"),
        (Rule(ALTERNATE_WEEKS, household_a=A), "second foyer"),
        (Rule(SPLIT, household_a=A, household_b=A, percent_a=50), "différents"),
        (Rule(ALTERNATE_WEEKS, household_a=A, household_b=B), "lundi"),
        (
            Rule(
                ALTERNATE_WEEKS, household_a=A, household_b=B, reference_monday=MON + timedelta(1)
            ),
            "lundi",
        ),
        (Rule(WEEKDAYS, household_a=A, household_b=B), "au moins un jour"),
        (Rule(WEEKDAYS, household_a=A, household_b=B, weekdays_a=frozenset({7})), "au moins"),
        (Rule(SPLIT, household_a=A, household_b=B), "entre 1 et 99"),
        (Rule(SPLIT, household_a=A, household_b=B, percent_a=100), "entre 1 et 99"),
    ],
)
def test_incomplete_rules_are_refused_in_french(rule, message):
    with pytest.raises(RuleError, match=message):
        check_rule(rule)


def test_complete_rules_pass():
    for rule in (
        Rule(HOME, household_a=A),
        Rule(BOOKER, household_a=A, household_b=B),
        Rule(ALTERNATE_WEEKS, household_a=A, household_b=B, reference_monday=MON),
        Rule(WEEKDAYS, household_a=A, household_b=B, weekdays_a=frozenset({4})),
        Rule(SPLIT, household_a=A, household_b=B, percent_a=60),
    ):
        check_rule(rule)


def test_each_rule_reads_as_one_french_sentence():
    names = {A: "foyer d'Élise Boulanger", B: "foyer de Michel Lefort"}
    assert "rattaché" in describe(None, names)
    assert describe(Rule(HOME, household_a=B), names).startswith("Foyer de Michel Lefort paie")
    assert "parent qui réserve" in describe(Rule(BOOKER, household_a=A, household_b=B), names)
    text = describe(
        Rule(ALTERNATE_WEEKS, household_a=A, household_b=B, reference_monday=MON), names
    )
    assert "15/03/2027" in text and "foyer de Michel Lefort les autres semaines" in text
    text = describe(
        Rule(WEEKDAYS, household_a=A, household_b=B, weekdays_a=frozenset({0, 4})), names
    )
    assert "lundi, vendredi" in text
    assert "60 % pour foyer d'Élise" in describe(
        Rule(SPLIT, household_a=A, household_b=B, percent_a=60), names
    )


# --- the run's drafts: one invoice per payer household, at its own QF and sibling rank ---


def _fact(booking_id, child_id, day, *, booked_by=None, household=HOME_ID, birth=date(2018, 1, 1)):
    return BookingFact(
        booking_id=booking_id,
        child_id=child_id,
        household_id=household,
        child_name=f"Enfant {child_id}",
        child_birth_date=birth,
        service_code="restauration-scolaire",
        service_name="Restauration scolaire",
        day=day,
        status="booked",
        booked_by_household_id=booked_by,
    )


def _tariffs():
    from modules.billing.tariffs import parse_billing_settings

    return parse_billing_settings(
        {
            "rules": {"sibling_reductions": {2: 50}},
            "services": {
                "restauration-scolaire": {
                    "versions": [
                        {
                            "applies_from": "2026-09-01",
                            "kind": "grid",
                            "unit": "repas",
                            "grid": [{"up_to": 600, "price": 1.00}, {"price": 4.00}],
                        }
                    ],
                }
            },
        }
    )


def test_drafts_group_days_per_payer_household_at_its_own_qf_and_rank():
    from modules.billing.town_settings import InvoicingSettings

    tariffs = _tariffs()
    henri, michels_daughter = 1, 2
    facts = [
        _fact(1, henri, MON, booked_by=B),
        _fact(2, henri, MON + timedelta(1), booked_by=B),
        _fact(3, henri, MON + timedelta(3), booked_by=A),
        _fact(4, henri, MON + timedelta(4), booked_by=A),
        _fact(5, henri, MON + timedelta(7), booked_by=None),
        # Michel's elder daughter (his household only): Henri is Michel's 2nd child.
        _fact(6, michels_daughter, MON, household=B, birth=date(2015, 1, 1)),
    ]
    rules = {henri: Rule(BOOKER, household_a=A, household_b=B)}
    assigned = assign_payers(facts, rules)
    built = build_drafts(
        assigned,
        households={A: HouseholdFacts(A, 540), B: HouseholdFacts(B, 1150)},
        tariffs=tariffs,
        invoicing=InvoicingSettings(),
    )
    by_household = {d.household_id: d for d in built.drafts}
    assert set(by_household) == {A, B}
    elise, michel = by_household[A], by_household[B]
    assert [line.booking_id for line in elise.lines] == [3, 4, 5]
    assert all(line.amount == D("1.00") for line in elise.lines)  # QF 540, Henri her 1st child
    henri_at_michel = [line for line in michel.lines if line.child_id == henri]
    assert [line.booking_id for line in henri_at_michel] == [1, 2]
    # QF 1150 (4,00 €) and 2nd child of Michel's household: -50 %.
    assert all(line.amount == D("2.00") for line in henri_at_michel)


def test_a_split_day_is_billed_once_per_share_with_the_share_in_the_explanation():
    from modules.billing.town_settings import InvoicingSettings

    rule = Rule(SPLIT, household_a=A, household_b=B, percent_a=25)
    assigned = assign_payers([_fact(1, 1, MON)], {1: rule})
    assert [(f.household_id, f.share, f.share_part) for f in assigned] == [
        (A, D(25), 1),
        (B, D(75), 2),
    ]
    built = build_drafts(
        assigned,
        households={A: HouseholdFacts(A, 540), B: HouseholdFacts(B, 1150)},
        tariffs=_tariffs(),
        invoicing=InvoicingSettings(),
    )
    lines = {d.household_id: d.lines[0] for d in built.drafts}
    assert lines[A].amount == D("0.25") and lines[A].share_part == 1
    assert lines[B].amount == D("3.00") and lines[B].share_part == 2
    assert "part de votre foyer : 25 %" in lines[A].explanation
    assert "payé par votre foyer (garde partagée : partage en pourcentage" in lines[A].explanation
    assert lines[A].billed_percent == D("25.00")
