"""Pure pricing: one table per tariff kind, then hypothesis properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.billing.pricing import (
    AbsenceRules,
    Attendance,
    BillingSettings,
    Bracket,
    PricingError,
    ServiceTariff,
    TariffKind,
    TariffVersion,
    caf_parts,
    euros,
    price_session,
    quotient_familial,
    retroactive_changes,
    round_cent,
    simulate,
)

A = Attendance
DAY = date(2026, 11, 17)  # a Tuesday
RULES = dict(
    sibling_reductions=((2, D(10)), (3, D(20))),
    non_resident_surcharge_percent=D(20),
    absences=AbsenceRules(
        unjustified_percent=D(100), late_cancellation_percent=D(50), carence_days=2
    ),
)


def tariff(version: TariffVersion, code: str = "restauration-scolaire") -> ServiceTariff:
    return ServiceTariff(
        service_code=code, versions=(version,), label="Restauration scolaire", sessions_per_month=16
    )


GRID = tariff(
    TariffVersion(
        applies_from=date(2026, 9, 1),
        kind=TariffKind.GRID,
        unit="repas",
        brackets=(Bracket(600, D("2.50")), Bracket(900, D("3.20")), Bracket(None, D("4.10"))),
        **RULES,
    )
)
EFFORT = tariff(
    TariffVersion(
        applies_from=date(2026, 9, 1),
        kind=TariffKind.EFFORT_RATE,
        unit="journée",
        rate_percent=D("1.2"),
        floor=D("4.00"),
        ceiling=D("18.00"),
        **RULES,
    ),
    code="alsh-mercredi",
)
FLAT = tariff(
    TariffVersion(
        applies_from=date(2026, 9, 1),
        kind=TariffKind.FLAT,
        unit="heure",
        price=D("1.75"),
        **RULES,
    ),
    code="etudes",
)


def line(
    t, qf=740, rank=1, resident=True, attendance=A.BOOKED, sick_since=None, quantity=1, day=DAY
):
    start = None if sick_since is None else day - timedelta(days=sick_since)
    return price_session(
        t,
        day=day,
        qf=qf,
        child_rank=rank,
        resident=resident,
        attendance=attendance,
        illness_start=start,
        quantity=quantity,
    )


# --- tables -----------------------------------------------------------------
# (qf, rank, resident, attendance, days since the illness began, expected €)

GRID_CASES = [
    (740, 1, True, A.BOOKED, None, "3.20"),
    (740, 2, True, A.BOOKED, None, "2.88"),
    (740, 3, True, A.BOOKED, None, "2.56"),
    (740, 6, True, A.BOOKED, None, "2.56"),  # 3rd rate for every next child
    (0, 1, True, A.BOOKED, None, "2.50"),
    (600, 1, True, A.BOOKED, None, "2.50"),  # bounds are inclusive
    (D("600.99"), 1, True, A.BOOKED, None, "2.50"),  # QF taken at the euro below
    (601, 1, True, A.BOOKED, None, "3.20"),
    (900, 1, True, A.BOOKED, None, "3.20"),
    (901, 1, True, A.BOOKED, None, "4.10"),
    (25000, 1, True, A.BOOKED, None, "4.10"),
    (None, 1, True, A.BOOKED, None, "4.10"),  # no QF: highest bracket
    (740, 1, False, A.BOOKED, None, "3.84"),
    (740, 2, False, A.BOOKED, None, "3.46"),  # 3.456 -> 3.46
    (740, 1, True, A.CANCELLED_IN_TIME, None, "0.00"),
    (740, 1, True, A.LATE_CANCELLATION, None, "1.60"),
    (740, 1, True, A.UNJUSTIFIED_ABSENCE, None, "3.20"),
    (740, 1, True, A.JUSTIFIED_ABSENCE, None, "0.00"),
    (740, 1, True, A.ILLNESS, 0, "3.20"),  # carence day 1 of 2
    (740, 2, True, A.ILLNESS, 1, "2.88"),  # carence day 2 of 2
    (740, 1, True, A.ILLNESS, 2, "0.00"),  # third day: free
    (740, 1, True, A.ILLNESS, 30, "0.00"),
]

EFFORT_CASES = [
    (740, 1, True, A.BOOKED, None, "8.88"),
    (1000, 2, True, A.BOOKED, None, "10.80"),
    (200, 1, True, A.BOOKED, None, "4.00"),  # 2.40 raised to the floor
    (333, 1, True, A.BOOKED, None, "4.00"),  # 3.996 raised to the floor
    (2000, 1, True, A.BOOKED, None, "18.00"),  # 24.00 capped
    (None, 1, True, A.BOOKED, None, "18.00"),  # no QF: the ceiling
    (200, 2, True, A.BOOKED, None, "3.60"),  # the reduction applies after the floor
    (2000, 1, False, A.BOOKED, None, "21.60"),  # and the surcharge after the ceiling
    (1040, 1, True, A.LATE_CANCELLATION, None, "6.24"),
    (1041, 1, True, A.LATE_CANCELLATION, None, "6.25"),  # 6.246 -> 6.25
    (740, 1, True, A.UNJUSTIFIED_ABSENCE, None, "8.88"),
    (740, 1, True, A.JUSTIFIED_ABSENCE, None, "0.00"),
    (740, 1, True, A.ILLNESS, 1, "8.88"),
    (740, 1, True, A.ILLNESS, 2, "0.00"),
]

FLAT_CASES = [
    (740, 1, True, A.BOOKED, None, "1.75"),
    (None, 1, True, A.BOOKED, None, "1.75"),  # the QF does not matter
    (740, 2, True, A.BOOKED, None, "1.58"),  # 1.575 -> 1.58 (half-up, not half-even)
    (740, 3, False, A.BOOKED, None, "1.68"),
    (740, 1, True, A.LATE_CANCELLATION, None, "0.88"),  # 0.875 -> 0.88
    (740, 1, True, A.ILLNESS, 0, "1.75"),
    (740, 1, True, A.ILLNESS, 2, "0.00"),
]


@pytest.mark.parametrize("qf,rank,resident,attendance,sick_since,expected", GRID_CASES)
def test_grid(qf, rank, resident, attendance, sick_since, expected):
    got = line(GRID, qf, rank, resident, attendance, sick_since)
    assert got.amount == D(expected), got.explanation


@pytest.mark.parametrize("qf,rank,resident,attendance,sick_since,expected", EFFORT_CASES)
def test_effort_rate(qf, rank, resident, attendance, sick_since, expected):
    got = line(EFFORT, qf, rank, resident, attendance, sick_since)
    assert got.amount == D(expected), got.explanation


@pytest.mark.parametrize("qf,rank,resident,attendance,sick_since,expected", FLAT_CASES)
def test_flat(qf, rank, resident, attendance, sick_since, expected):
    got = line(FLAT, qf, rank, resident, attendance, sick_since)
    assert got.amount == D(expected), got.explanation


@pytest.mark.parametrize(
    "t,quantity,expected",
    [
        (FLAT, D("2.5"), "4.38"),  # 4.375 -> 4.38, rounded once for the line
        (FLAT, 3, "5.25"),
        (EFFORT, D("0.5"), "4.44"),
    ],
)
def test_quantity_multiplies_before_the_single_rounding(t, quantity, expected):
    assert line(t, quantity=quantity).amount == D(expected)


# --- explanations (French, one step per rule applied) -------------------------


@pytest.mark.parametrize(
    "t,kwargs,expected",
    [
        (
            GRID,
            dict(rank=2),
            "QF 740 € → tranche 2 (601–900 €) : 3,20 € ; 2e enfant −10 % : 2,88 €",
        ),
        (
            GRID,
            dict(qf=None),
            "QF non communiqué, tarif le plus élevé → tranche 3 (901 € et plus) : 4,10 €",
        ),
        (GRID, dict(qf=100), "QF 100 € → tranche 1 (0–600 €) : 2,50 €"),
        (
            GRID,
            dict(resident=False, attendance=A.LATE_CANCELLATION),
            "QF 740 € → tranche 2 (601–900 €) : 3,20 € ; hors commune +20 % : 3,84 € ; "
            "annulation hors délai facturée 50 % : 1,92 €",
        ),
        (
            GRID,
            dict(attendance=A.ILLNESS, sick_since=1),
            "QF 740 € → tranche 2 (601–900 €) : 3,20 € ; absence pour maladie, jour de "
            "carence 2 sur 2 "
            "(facturé comme une absence non justifiée, 100 %) : 3,20 €",
        ),
        (
            GRID,
            dict(attendance=A.ILLNESS, sick_since=2),
            "QF 740 € → tranche 2 (601–900 €) : 3,20 € ; absence pour maladie justifiée, "
            "après 2 jours de carence, non facturée : 0,00 €",
        ),
        (
            GRID,
            dict(attendance=A.CANCELLED_IN_TIME),
            "QF 740 € → tranche 2 (601–900 €) : 3,20 € ; annulé dans les délais, non "
            "facturé : 0,00 €",
        ),
        (EFFORT, dict(qf=200), "QF 200 € × 1,2 % = 2,40 € → plancher : 4,00 €"),
        (EFFORT, dict(qf=1500), "QF 1 500 € × 1,2 % = 18,00 €"),
        (EFFORT, dict(qf=None), "QF non communiqué → plafond du taux d'effort : 18,00 €"),
        (FLAT, dict(quantity=D("2.5")), "tarif unique : 1,75 € ; × 2,5 heures : 4,38 €"),
    ],
)
def test_explanations(t, kwargs, expected):
    assert line(t, **kwargs).explanation.replace("\u202f", " ") == expected


def test_plain_strings_are_accepted_for_kinds_and_attendance():
    version = TariffVersion(applies_from=date(2026, 9, 1), kind="flat", price=D(2))
    assert version.kind is TariffKind.FLAT
    got = price_session(tariff(version), day=DAY, qf=None, attendance="late_cancellation")
    assert got.attendance is A.LATE_CANCELLATION
    with pytest.raises(PricingError, match="Type de tarif « forfait » inconnu"):
        TariffVersion(applies_from=DAY, kind="forfait")


def test_a_line_records_what_was_applied():
    got = line(GRID, rank=2, attendance=A.LATE_CANCELLATION)
    assert (got.bracket, got.billed_percent, got.tariff_applies_from, got.unit) == (
        2,
        D(50),
        date(2026, 9, 1),
        "repas",
    )


def test_euros_formatting():
    assert euros(D("1234.5")) == "1\u202f234,50 €"
    assert euros(D("0.005")) == "0,01 €"


# --- versions: the tariff in force on the session's day -----------------------


def two_versions():
    old = TariffVersion(applies_from=date(2025, 9, 1), kind=TariffKind.FLAT, price=D("3.00"))
    new = TariffVersion(applies_from=date(2026, 9, 1), kind=TariffKind.FLAT, price=D("3.10"))
    return ServiceTariff(service_code="cantine", versions=(old, new), label="Cantine")


@pytest.mark.parametrize(
    "day,expected",
    [
        (date(2025, 9, 1), "3.00"),
        (date(2026, 8, 31), "3.00"),
        (date(2026, 9, 1), "3.10"),
        (date(2030, 1, 1), "3.10"),
    ],
)
def test_the_version_in_force_on_the_day_applies(day, expected):
    assert price_session(two_versions(), day=day, qf=500).amount == D(expected)


def test_no_tariff_before_the_first_version():
    with pytest.raises(PricingError, match="Aucun tarif « Cantine » en vigueur le 31/08/2025"):
        price_session(two_versions(), day=date(2025, 8, 31), qf=500)


def test_versions_must_have_distinct_dates():
    v = TariffVersion(applies_from=date(2025, 9, 1), kind=TariffKind.FLAT, price=D(1))
    with pytest.raises(PricingError, match="dates"):
        ServiceTariff(service_code="x", versions=(v, v))


def settings_with(*versions):
    return BillingSettings(
        services={"cantine": ServiceTariff(service_code="cantine", versions=tuple(versions))}
    )


def test_retroactive_changes():
    today = date(2026, 11, 21)
    v2025 = TariffVersion(applies_from=date(2025, 9, 1), kind=TariffKind.FLAT, price=D("3.00"))
    v2026 = TariffVersion(applies_from=date(2026, 9, 1), kind=TariffKind.FLAT, price=D("3.10"))
    future = TariffVersion(applies_from=date(2027, 1, 1), kind=TariffKind.FLAT, price=D("3.20"))
    past_new = TariffVersion(applies_from=date(2026, 11, 1), kind=TariffKind.FLAT, price=D("3.20"))
    changed = TariffVersion(applies_from=date(2026, 9, 1), kind=TariffKind.FLAT, price=D("2.90"))
    before = settings_with(v2025, v2026)

    assert retroactive_changes(None, before, today=today) == []  # first onboarding
    assert retroactive_changes(before, before, today=today) == []
    assert retroactive_changes(before, settings_with(v2025, v2026, future), today=today) == []
    # A new service may start in the past: nothing was billed for it.
    assert retroactive_changes(BillingSettings(services={}), before, today=today) == []

    [problem] = retroactive_changes(before, settings_with(v2025, changed), today=today)
    assert "01/09/2026 a déjà servi, elle ne peut pas être modifiée" in problem
    [problem] = retroactive_changes(before, settings_with(v2025, v2026, past_new), today=today)
    assert "ne peut pas s'appliquer au passé (01/11/2026)" in problem
    [problem] = retroactive_changes(before, settings_with(v2026), today=today)
    assert "01/09/2025 a déjà servi, elle ne peut pas être retirée" in problem
    # Changing a future version is fine.
    later = TariffVersion(applies_from=date(2027, 1, 1), kind=TariffKind.FLAT, price=D("9"))
    assert (
        retroactive_changes(settings_with(v2025, future), settings_with(v2025, later), today=today)
        == []
    )


# --- invalid input: French errors -----------------------------------------------


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(qf=-1), "quotient familial ne peut pas être négatif"),
        (dict(rank=0), "rang de l'enfant"),
        (dict(quantity=0), "quantité"),
        (dict(attendance=A.ILLNESS), "premier jour de l'absence"),
        (dict(attendance=A.ILLNESS, sick_since=-1), "commence après ce jour"),
    ],
)
def test_invalid_session_input(kwargs, message):
    with pytest.raises(PricingError, match=message):
        line(GRID, **kwargs)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(kind=TariffKind.GRID, brackets=()), "au moins une tranche"),
        (dict(kind=TariffKind.GRID, brackets=(Bracket(600, D(1)),)), "dernière tranche"),
        (
            dict(
                kind=TariffKind.GRID,
                brackets=(Bracket(900, D(1)), Bracket(600, D(2)), Bracket(None, D(3))),
            ),
            "croissantes",
        ),
        (
            dict(kind=TariffKind.GRID, brackets=(Bracket(None, D(1)), Bracket(None, D(2)))),
            "dernière tranche|Seule la dernière",
        ),
        (dict(kind=TariffKind.FLAT, price=D("1.234")), "euros et centimes"),
        (dict(kind=TariffKind.FLAT, price=D(-1)), "négatif"),
        (dict(kind=TariffKind.FLAT), "demande un prix"),
        (
            dict(kind=TariffKind.EFFORT_RATE, rate_percent=D(1), floor=D(5), ceiling=D(4)),
            "plancher",
        ),
        (dict(kind=TariffKind.EFFORT_RATE, rate_percent=D(1)), "plancher et un plafond"),
        (dict(kind=TariffKind.FLAT, price=D(1), sibling_reductions=((1, D(10)),)), "rang"),
        (
            dict(kind=TariffKind.FLAT, price=D(1), sibling_reductions=((2, D(110)),)),
            "entre 0 et 100",
        ),
    ],
)
def test_invalid_tariffs(kwargs, message):
    with pytest.raises(PricingError, match=message):
        TariffVersion(applies_from=DAY, **kwargs)


# --- CAF quotient familial and the simulator ------------------------------------


@pytest.mark.parametrize(
    "children,disabled,parts",
    [
        (0, 0, "2"),
        (1, 0, "2.5"),
        (2, 0, "3"),
        (3, 0, "4"),
        (4, 0, "4.5"),
        (5, 0, "5"),
        (2, 1, "3.5"),
    ],
)
def test_caf_parts(children, disabled, parts):
    assert caf_parts(children=children, disabled_children=disabled) == D(parts)


@pytest.mark.parametrize(
    "income,benefits,parts,qf",
    [
        (36000, 150, 3, 1050),  # (3000 + 150) / 3
        (24000, 0, D("2.5"), 800),
        (25000, D("120.50"), 3, 734),  # 734.83 -> 734 (euro below)
        (0, 0, 2, 0),
    ],
)
def test_quotient_familial(income, benefits, parts, qf):
    assert quotient_familial(annual_income=income, monthly_benefits=benefits, parts=parts) == qf


def test_simulator_from_caf_figures():
    s = BillingSettings(services={"restauration-scolaire": GRID, "alsh-mercredi": EFFORT})
    sim = simulate(s, day=DAY, annual_income=27000, monthly_benefits=0, parts=3, child_rank=2)
    assert sim.qf == 750
    assert sim.qf_explanation.replace("\u202f", " ") == (
        "QF = (27 000,00 € / 12 + 0,00 €) / 3 parts = 750 €"
    )
    cantine, alsh = sim.services
    assert (cantine.line.amount, cantine.monthly_estimate) == (D("2.88"), D("46.08"))
    assert cantine.explanation == (
        "QF 750 € → tranche 2 (601–900 €) : 3,20 € ; 2e enfant −10 % : 2,88 € ; "
        "16 repas par mois : 46,08 €"
    )
    assert (alsh.line.amount, alsh.monthly_estimate) == (D("8.10"), D("129.60"))
    assert sim.monthly_total == D("175.68")


def test_simulator_without_qf_shows_the_highest_prices_and_skips_future_tariffs():
    later = ServiceTariff(
        service_code="nouveau",
        versions=(TariffVersion(applies_from=date(2027, 1, 1), kind=TariffKind.FLAT, price=D(1)),),
    )
    s = BillingSettings(services={"restauration-scolaire": GRID, "nouveau": later})
    sim = simulate(s, day=DAY, sessions_per_month={"restauration-scolaire": 4})
    assert sim.qf is None and "tarif le plus élevé" in sim.qf_explanation
    assert [x.line.amount for x in sim.services] == [D("4.10")]
    assert sim.monthly_total == D("16.40")
    assert sim.unavailable == ("nouveau",)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(qf=500, annual_income=1000, parts=2), "pas les deux"),
        (dict(annual_income=1000), "nombre de parts"),
        (dict(annual_income=-1, parts=2), "négatifs"),
        (dict(annual_income=1000, parts=0), "positif"),
    ],
)
def test_simulator_input_errors(kwargs, message):
    with pytest.raises(PricingError, match=message):
        simulate(BillingSettings(services={"x": GRID}), day=DAY, **kwargs)


def test_unknown_service():
    with pytest.raises(PricingError, match="Aucun tarif n'est défini pour le service « piscine »"):
        BillingSettings(services={}).tariff("piscine")


# --- properties -------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=100, places=2)
percent = st.decimals(min_value=0, max_value=100, places=2)
qfs = st.one_of(st.none(), st.decimals(min_value=0, max_value=6000, places=2))
attendances = st.sampled_from(list(Attendance))


@st.composite
def rules(draw):
    ranks = draw(st.lists(st.integers(2, 6), unique=True, max_size=3))
    return dict(
        sibling_reductions=tuple(sorted((r, draw(percent)) for r in ranks)),
        non_resident_surcharge_percent=draw(st.decimals(min_value=0, max_value=300, places=2)),
        absences=AbsenceRules(
            unjustified_percent=draw(percent),
            late_cancellation_percent=draw(percent),
            carence_days=draw(st.integers(0, 5)),
        ),
    )


@st.composite
def monotonic_grids(draw):
    bounds = sorted(draw(st.lists(st.integers(0, 5000), unique=True, max_size=6)))
    prices = sorted(draw(st.lists(money, min_size=len(bounds) + 1, max_size=len(bounds) + 1)))
    brackets = tuple(Bracket(b, p) for b, p in zip(bounds, prices, strict=False))
    return TariffVersion(
        applies_from=date(2026, 9, 1),
        kind=TariffKind.GRID,
        brackets=brackets + (Bracket(None, prices[-1]),),
        **draw(rules()),
    )


@st.composite
def effort_rates(draw):
    floor, ceiling = sorted([draw(money), draw(money)])
    return TariffVersion(
        applies_from=date(2026, 9, 1),
        kind=TariffKind.EFFORT_RATE,
        rate_percent=draw(st.decimals(min_value=D("0.01"), max_value=5, places=3)),
        floor=floor,
        ceiling=ceiling,
        **draw(rules()),
    )


@st.composite
def flats(draw):
    return TariffVersion(
        applies_from=date(2026, 9, 1), kind=TariffKind.FLAT, price=draw(money), **draw(rules())
    )


@st.composite
def any_grids(draw):  # prices in any order: not monotonic
    bounds = sorted(draw(st.lists(st.integers(0, 5000), unique=True, max_size=6)))
    prices = draw(st.lists(money, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    brackets = [Bracket(b, p) for b, p in zip(bounds, prices, strict=False)]
    return TariffVersion(
        applies_from=date(2026, 9, 1),
        kind=TariffKind.GRID,
        brackets=(*brackets, Bracket(None, prices[-1])),
        **draw(rules()),
    )


monotonic_versions = st.one_of(monotonic_grids(), effort_rates(), flats())
versions = st.one_of(any_grids(), effort_rates(), flats())
sessions = st.fixed_dictionaries(
    {
        "child_rank": st.integers(1, 8),
        "resident": st.booleans(),
        "quantity": st.decimals(min_value=D("0.25"), max_value=12, places=2),
    }
)


def wrap(version):
    return ServiceTariff(service_code="s", versions=(version,), sessions_per_month=16)


@given(versions, qfs, sessions, attendances, st.integers(0, 10))
def test_price_is_never_negative_and_rounded_once_to_the_cent(version, qf, kw, attendance, sick):
    got = price_session(
        wrap(version),
        day=DAY,
        qf=qf,
        attendance=attendance,
        illness_start=DAY - timedelta(days=sick),
        **kw,
    )
    assert got.amount >= 0
    assert got.amount == round_cent(got.amount)
    # The explanation's last figure is the billed amount.
    assert got.explanation.endswith(euros(got.amount))


@given(
    monotonic_versions,
    st.decimals(min_value=0, max_value=6000, places=2),
    st.decimals(min_value=0, max_value=6000, places=2),
    sessions,
)
def test_monotonic_in_qf_for_a_monotonic_tariff(version, qf1, qf2, kw):
    low, high = sorted([qf1, qf2])
    t = wrap(version)
    cheap = price_session(t, day=DAY, qf=low, **kw).amount
    dear = price_session(t, day=DAY, qf=high, **kw).amount
    unknown = price_session(t, day=DAY, qf=None, **kw).amount
    assert cheap <= dear <= unknown  # no QF given: never cheaper than any QF


@given(versions, qfs, sessions, st.integers(0, 40))
def test_justified_absence_never_costs_more_than_unjustified(version, qf, kw, sick):
    t = wrap(version)

    def amount(attendance):
        return price_session(
            t, day=DAY, qf=qf, attendance=attendance, illness_start=DAY - timedelta(days=sick), **kw
        ).amount

    unjustified = amount(A.UNJUSTIFIED_ABSENCE)
    assert amount(A.JUSTIFIED_ABSENCE) == 0
    assert amount(A.ILLNESS) <= unjustified <= amount(A.BOOKED)
    assert amount(A.CANCELLED_IN_TIME) == 0 <= amount(A.LATE_CANCELLATION) <= amount(A.BOOKED)


@settings(max_examples=60)
@given(
    st.lists(versions, min_size=1, max_size=3),
    qfs,
    st.integers(1, 8),
    st.booleans(),
    st.integers(0, 31),
)
def test_simulator_shows_exactly_the_billed_line(vs, qf, rank, resident, count):
    s = BillingSettings(services={f"s{i}": wrap(v) for i, v in enumerate(vs)})
    sim = simulate(
        s,
        day=DAY,
        qf=qf,
        child_rank=rank,
        resident=resident,
        sessions_per_month={code: count for code in s.services},
    )
    for item in sim.services:
        billed = price_session(
            s.services[item.service_code], day=DAY, qf=qf, child_rank=rank, resident=resident
        )
        assert item.line == billed
        assert item.monthly_estimate == billed.amount * count
    assert sim.monthly_total == sum(i.monthly_estimate for i in sim.services)


@given(st.integers(0, 200_000), st.integers(0, 3000), st.integers(0, 6), versions)
def test_simulator_from_income_equals_simulator_from_qf(income, benefits, children, version):
    s = BillingSettings(services={"s": wrap(version)})
    parts = caf_parts(children=children)
    by_income = simulate(s, day=DAY, annual_income=income, monthly_benefits=benefits, parts=parts)
    by_qf = simulate(s, day=DAY, qf=by_income.qf)
    assert by_income.services == by_qf.services
