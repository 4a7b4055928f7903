"""Pure rules of invoicing: what each booking costs, illness episodes, ranks,
grouping per payer and régie, invoice status, debit dates, the fiscal
attestation's sums (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modules.billing.lines import (
    DEFER,
    BookingFact,
    HouseholdFacts,
    billing_attendance,
    build_drafts,
    child_ranks,
    illness_starts,
    month_bounds,
    previous_month,
)
from modules.billing.pricing import (
    AbsenceRules,
    Attendance,
    BillingSettings,
    Bracket,
    ServiceTariff,
    TariffVersion,
)
from modules.billing.rules import (
    PaidInvoice,
    childcare_paid,
    collection_date,
    invoice_status,
    under_six_on_january_first,
)
from modules.billing.town_settings import (
    DirectDebitSettings,
    InvoicingConfigError,
    InvoicingSettings,
    Regie,
    parse_invoicing_settings,
)

D0 = date(2026, 10, 5)


def fact(**kw):
    base = dict(
        booking_id=1,
        child_id=10,
        household_id=100,
        child_name="Léa Martin",
        child_birth_date=date(2018, 5, 14),
        service_code="cantine",
        service_name="Restauration scolaire",
        day=D0,
        status="booked",
    )
    return BookingFact(**{**base, **kw})


@pytest.mark.parametrize(
    "kw,expected",
    [
        ({}, Attendance.BOOKED),
        ({"attendance": "present"}, Attendance.BOOKED),
        ({"attendance": "absent"}, Attendance.UNJUSTIFIED_ABSENCE),
        ({"status": "cancelled"}, None),
        ({"status": "cancelled", "cancelled_late": True}, Attendance.LATE_CANCELLATION),
        (
            {"attendance": "absent", "absence_reason": "illness", "absence_decision": "justified"},
            Attendance.ILLNESS,
        ),
        (
            {"attendance": "absent", "absence_reason": "family", "absence_decision": "justified"},
            Attendance.JUSTIFIED_ABSENCE,
        ),
        (
            {"absence_reason": "other", "absence_decision": "justified"},
            Attendance.JUSTIFIED_ABSENCE,
        ),
        (
            {"absence_reason": "illness", "absence_decision": "unjustified"},
            Attendance.UNJUSTIFIED_ABSENCE,
        ),
        ({"absence_reason": "illness", "absence_decision": "pending"}, DEFER),
        # Reported absent, yet the child came: billed as booked.
        (
            {"attendance": "present", "absence_reason": "family", "absence_decision": "justified"},
            Attendance.BOOKED,
        ),
    ],
)
def test_billing_attendance(kw, expected):
    assert billing_attendance(fact(**kw)) == expected


def test_illness_episode_runs_over_weekends_and_months():
    days = [
        date(2026, 10, 29),
        date(2026, 10, 30),
        date(2026, 11, 2),
        date(2026, 11, 3),
        date(2026, 11, 10),
    ]
    starts = illness_starts([(1, d) for d in days] + [(2, date(2026, 11, 3))])
    assert [starts[(1, d)] for d in days] == [date(2026, 10, 29)] * 4 + [date(2026, 11, 10)]
    assert starts[(2, date(2026, 11, 3))] == date(2026, 11, 3)


def test_child_ranks_eldest_first_per_household_and_service():
    facts = [
        fact(child_id=1, child_birth_date=date(2019, 1, 1)),
        fact(child_id=2, child_birth_date=date(2017, 1, 1)),
        fact(child_id=3, child_birth_date=date(2017, 1, 1), service_code="matin"),
        fact(child_id=4, household_id=200),
    ]
    ranks = child_ranks(facts)
    assert ranks[(100, "cantine", 2)] == 1 and ranks[(100, "cantine", 1)] == 2
    assert ranks[(100, "matin", 3)] == 1 and ranks[(200, "cantine", 4)] == 1


def tariff(code="cantine", **rules):
    return ServiceTariff(
        code,
        (
            TariffVersion(
                applies_from=date(2025, 9, 1),
                kind="grid",
                unit="repas",
                brackets=(Bracket(700, D("2.00")), Bracket(None, D("4.00"))),
                sibling_reductions=((2, D(10)),),
                non_resident_surcharge_percent=D(20),
                absences=AbsenceRules(**rules),
            ),
        ),
        label="Cantine",
    )


SETTINGS = BillingSettings(
    {
        "cantine": tariff(
            unjustified_percent=D(100), late_cancellation_percent=D(50), carence_days=1
        ),
        "creche": ServiceTariff(
            "creche",
            (
                TariffVersion(
                    applies_from=date(2025, 9, 1),
                    kind="effort_rate",
                    unit="heure",
                    rate_percent=D("0.25"),
                    floor=D("0.50"),
                    ceiling=D("3.80"),
                    absences=AbsenceRules(carence_days=3),
                ),
            ),
        ),
    }
)
INVOICING = InvoicingSettings(
    regies=(Regie("petite-enfance", "Régie Petite Enfance", frozenset({"creche"})),),
    module_of_service={"cantine": "periscolaire"},
)


def test_build_drafts_prices_each_rule_and_groups_per_household_and_regie():
    facts = [
        fact(booking_id=1),
        fact(booking_id=2, day=date(2026, 10, 6), attendance="absent"),
        fact(booking_id=3, day=date(2026, 10, 8), status="cancelled", cancelled_late=True),
        fact(booking_id=4, day=date(2026, 10, 9), status="cancelled"),  # in time: nothing
        fact(
            booking_id=5,
            day=date(2026, 10, 12),
            absence_reason="family",
            absence_decision="justified",
        ),
        fact(
            booking_id=6,
            day=date(2026, 10, 13),
            absence_reason="illness",
            absence_decision="pending",
        ),
        fact(
            booking_id=7, child_id=11, child_name="Hugo Martin", child_birth_date=date(2020, 1, 1)
        ),
        fact(booking_id=8, service_code="creche", service_name="Crèche", household_id=100),
        fact(booking_id=9, household_id=200, child_id=20, child_name="Noé Petit"),
    ]
    households = {
        100: HouseholdFacts(100, qf=650),
        200: HouseholdFacts(200, qf=None, resident=False),
    }
    result = build_drafts(
        facts,
        households=households,
        tariffs=SETTINGS,
        invoicing=INVOICING,
        quantities={"creche": D(9)},
    )
    assert result.deferred == 1 and result.problems == []
    drafts = {(d.household_id, d.regie.code): d for d in result.drafts}
    assert set(drafts) == {(100, "periscolaire"), (100, "petite-enfance"), (200, "periscolaire")}
    amounts = {line.booking_id: line.amount for d in result.drafts for line in d.lines}
    assert amounts == {
        1: D("2.00"),
        2: D("2.00"),
        3: D("1.00"),
        5: D("0.00"),
        7: D("1.80"),  # 2nd child, −10 %
        8: D("14.63"),  # 650 × 0.25 % = 1.625 €/h × 9 h
        9: D("4.80"),  # no QF: highest, +20 % outside the town
    }
    lea = [line for line in drafts[(100, "periscolaire")].lines if line.child_name == "Léa Martin"]
    assert [line.day for line in lea] == sorted(line.day for line in lea)
    assert "annulation hors délai facturée 50 %" in next(
        line.explanation for line in lea if line.booking_id == 3
    )
    assert drafts[(100, "periscolaire")].total == D("6.80")


def test_build_drafts_carence_counts_from_the_first_illness_day():
    days = [date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7), date(2026, 10, 8)]
    facts = [
        fact(
            booking_id=i,
            day=d,
            service_code="creche",
            service_name="Crèche",
            absence_reason="illness",
            absence_decision="justified",
        )
        for i, d in enumerate(days, 1)
    ]
    # The illness began on Friday 2 October (billed with September's facts).
    illness = [(10, date(2026, 10, 2))] + [(10, d) for d in days]
    result = build_drafts(
        facts,
        households={100: HouseholdFacts(100, qf=1000)},
        tariffs=SETTINGS,
        invoicing=INVOICING,
        illness_days=illness,
    )
    amounts = [line.amount for line in result.drafts[0].lines]
    # 2/10 is day 1; 5/10 is calendar day 4: past the 3 days of carence, free.
    assert amounts == [D("0.00")] * 4
    result = build_drafts(
        facts,
        households={100: HouseholdFacts(100, qf=1000)},
        tariffs=SETTINGS,
        invoicing=INVOICING,
        illness_days=[(10, d) for d in days],
    )
    assert [line.amount for line in result.drafts[0].lines] == [D("2.50")] * 3 + [D("0.00")]
    assert "jour de carence 1 sur 3" in result.drafts[0].lines[0].explanation


def test_build_drafts_reports_services_without_tariff_and_households_without_payer():
    facts = [fact(service_code="piscine", service_name="Piscine"), fact(household_id=999)]
    result = build_drafts(
        facts, households={100: HouseholdFacts(100, qf=1)}, tariffs=SETTINGS, invoicing=INVOICING
    )
    assert result.drafts == [] and result.skipped == 2
    assert result.problems == [
        "« Piscine » : aucun tarif en vigueur, 1 réservation non facturée.",
        "1 réservation sans foyer payeur connu.",
    ]


@pytest.mark.parametrize(
    "args,expected",
    [
        (
            dict(kind="invoice", total=D(10), paid=D(0), credited=D(0), debit_scheduled=False),
            "to_pay",
        ),
        (
            dict(kind="invoice", total=D(10), paid=D(4), credited=D(0), debit_scheduled=False),
            "partly_paid",
        ),
        (
            dict(kind="invoice", total=D(10), paid=D(10), credited=D(0), debit_scheduled=False),
            "paid",
        ),
        (
            dict(kind="invoice", total=D(10), paid=D(0), credited=D(0), debit_scheduled=True),
            "direct_debit",
        ),
        (
            dict(kind="invoice", total=D(10), paid=D(10), credited=D(0), debit_scheduled=True),
            "paid",
        ),
        (
            dict(kind="invoice", total=D(10), paid=D(0), credited=D(10), debit_scheduled=False),
            "cancelled",
        ),
        (
            dict(kind="invoice", total=D(0), paid=D(0), credited=D(0), debit_scheduled=False),
            "nothing_due",
        ),
        (
            dict(kind="credit", total=D(-10), paid=D(0), credited=D(0), debit_scheduled=False),
            "credit",
        ),
        (
            dict(kind="corrective", total=D(8), paid=D(0), credited=D(0), debit_scheduled=False),
            "to_pay",
        ),
    ],
)
def test_invoice_status(args, expected):
    assert invoice_status(**args) == expected


@given(
    total=st.decimals(min_value=D("0.01"), max_value=D(1000), places=2),
    paid=st.decimals(min_value=D(0), max_value=D(1000), places=2),
)
def test_invoice_status_paid_exactly_when_nothing_is_left(total, paid):
    status = invoice_status(
        kind="invoice", total=total, paid=paid, credited=D(0), debit_scheduled=False
    )
    assert (status == "paid") == (paid >= total)


def test_collection_date_leaves_fourteen_days_of_prenotification():
    assert collection_date(due_date=date(2026, 11, 30), notified_on=date(2026, 11, 8)) == date(
        2026, 11, 30
    )
    assert collection_date(due_date=date(2026, 11, 15), notified_on=date(2026, 11, 8)) == date(
        2026, 11, 22
    )


@pytest.mark.parametrize(
    "birth,year,expected",
    [
        (date(2020, 1, 2), 2026, True),
        (date(2020, 1, 1), 2026, False),
        (date(2019, 12, 31), 2026, False),
        (date(2025, 6, 1), 2026, True),
    ],
)
def test_under_six_on_january_first(birth, year, expected):
    assert under_six_on_january_first(birth, year) is expected


def test_childcare_paid_prorates_partial_payments_and_excludes_meals_and_older_children():
    births = {1: date(2022, 3, 1), 2: date(2015, 3, 1)}
    payments = [
        PaidInvoice(
            amount=D("30.00"),
            invoice_total=D("60.00"),
            lines=(
                (1, "accueil_soir", D("20.00")),
                (1, "restauration_scolaire", D("30.00")),
                (2, "accueil_soir", D("10.00")),
            ),
        ),
        PaidInvoice(
            amount=D("15.00"),
            invoice_total=D("15.00"),
            lines=((1, "creche_reguliere", D("15.00")),),
        ),
    ]
    assert childcare_paid(payments, birth_dates=births, year=2026) == {1: D("25.00")}


def test_month_helpers():
    assert month_bounds(2026, 2) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_bounds(2026, 12) == (date(2026, 12, 1), date(2026, 12, 31))
    assert previous_month(date(2026, 1, 15)) == (2025, 12)


def test_invoicing_settings_parse_and_french_problems():
    s = parse_invoicing_settings(
        {
            "invoicing": {"payment_days": 22, "online_payment_opens_at": "09:30"},
            "direct_debit": {
                "creditor_name": "Ville",
                "creditor_id": "FR72ZZZ123456",
                "iban": "FR7630001000640000000000137",
                "bic": "BDFEFRPP",
                "starts": "september",
            },
            "services": {"creche": {"quantity_per_booking": 9, "versions": []}},
        }
    )
    opens, closes = s.payment_window(date(2026, 11, 8))
    assert (f"{opens:%d/%m %H:%M}", f"{closes:%d/%m %H:%M}") == ("08/11 09:30", "30/11 23:59")
    assert s.quantities == {"creche": D(9)}
    assert s.direct_debit.applies_from(date(2026, 6, 3)) == date(2026, 9, 1)
    assert s.direct_debit.applies_from(date(2026, 10, 3)) == date(2027, 9, 1)
    assert DirectDebitSettings(s.direct_debit.creditor).applies_from(date(2026, 10, 3)) == date(
        2026, 10, 1
    )
    with pytest.raises(InvoicingConfigError) as exc:
        parse_invoicing_settings(
            {
                "invoicing": {"online_payment_opens_at": "9h30"},
                "regies": [
                    {"code": "a", "name": "A", "services": ["x"]},
                    {"code": "a", "name": "B", "services": ["x"]},
                ],
                "direct_debit": {
                    "creditor_name": "V",
                    "creditor_id": "FR00ZZZ123456",
                    "iban": "FR7630001000640000000000137",
                    "bic": "BDFEFRPP",
                },
            },
            service_codes={"y"},
        )
    assert exc.value.problems == [
        "invoicing.online_payment_opens_at : heure attendue au format HH:MM.",
        "regies[0].services : service « x » inconnu.",
        "regies[1].services : service « x » inconnu.",
        "regies[1].services : « x » est déjà dans une autre régie.",
        "regies : deux régies ont le même code.",
        "direct_debit : Identifiant créancier SEPA « FR00ZZZ123456 » : clé de contrôle incorrecte.",
    ]


def test_french_month_elision():
    from modules.billing.french import of_month

    assert [of_month(2026, m) for m in (4, 8, 10, 11)] == [
        "d'avril 2026",
        "d'août 2026",
        "d'octobre 2026",
        "de novembre 2026",
    ]
