"""Pricing of the towns' services: PURE functions (no ORM, no request).

One function prices one session of one child: `price_session()`. The monthly
invoicing run and the families' tariff simulator (`simulate()`) both call it,
so what a family is shown is what it will be billed.

Tariff kinds (per service, in `module_settings.billing` of the town's YAML):
- `grid`: a price per quotient-familial bracket ("tranche");
- `effort_rate`: QF × a rate, kept between a floor and a ceiling;
- `flat`: one price per session, whatever the QF.
Modifiers: sibling reductions by the child's rank in the household, a
surcharge for families living outside the town. Absence rules: a justified
absence is free; an unjustified absence or a late cancellation is billed in
full or a percentage; the first N calendar days of a justified illness
absence ("jours de carence") are billed like an unjustified absence.

Tariffs are versioned by their "applies from" date: a session is priced with
the version in force ON THE DAY OF THE SESSION, so a new version never
changes the price of past sessions (see also `retroactive_changes()`).

Rounding: every amount is computed with exact `Decimal` arithmetic and rounded
ONCE, to the cent, at the end of the line (one line = one session of one child,
times its quantity for hourly care), half-up ("au centime le plus proche",
the usual rule of French public accounting). Amounts shown inside an
explanation are the same exact values displayed to the cent; the last one
shown always equals the billed amount. An invoice total is the sum of its
lines, so it needs no further rounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum

from core.french import euros as french_euros

CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)


class PricingError(ValueError):
    """A session cannot be priced; the message is French, for staff and families."""


class TariffKind(StrEnum):
    GRID = "grid"
    EFFORT_RATE = "effort_rate"
    FLAT = "flat"


class Attendance(StrEnum):
    """What happened to a booked session, as far as billing is concerned."""

    BOOKED = "booked"  # booked and not cancelled: billed
    CANCELLED_IN_TIME = "cancelled_in_time"  # cancelled before the deadline: not billed
    LATE_CANCELLATION = "late_cancellation"  # cancelled after the deadline
    UNJUSTIFIED_ABSENCE = "unjustified_absence"
    ILLNESS = "illness"  # justified by a medical certificate: carence applies
    JUSTIFIED_ABSENCE = "justified_absence"  # other justified cause (school trip, strike...): free


# --- tariff data --------------------------------------------------------


@dataclass(frozen=True)
class Bracket:
    """A QF bracket: QF up to `up_to` euros (inclusive); None = no upper bound."""

    up_to: int | None
    price: Decimal


@dataclass(frozen=True)
class AbsenceRules:
    unjustified_percent: Decimal = HUNDRED
    late_cancellation_percent: Decimal = HUNDRED
    # First N calendar days of a justified illness absence still billed. The
    # CNAF's PSU rule for crèches counts "le premier jour d'absence et les deux
    # jours calendaires qui suivent" (3 days); towns set their own N.
    carence_days: int = 0

    def __post_init__(self) -> None:
        for name in ("unjustified_percent", "late_cancellation_percent"):
            _check_percent(getattr(self, name), name)
        if self.carence_days < 0:
            raise PricingError("Le nombre de jours de carence ne peut pas être négatif.")


@dataclass(frozen=True)
class TariffVersion:
    applies_from: date
    kind: TariffKind
    unit: str = "séance"  # "repas", "heure", "journée"...: used in explanations
    brackets: tuple[Bracket, ...] = ()  # grid
    rate_percent: Decimal | None = None  # effort_rate: % of the QF
    floor: Decimal | None = None  # effort_rate
    ceiling: Decimal | None = None  # effort_rate
    price: Decimal | None = None  # flat
    # (rank, percent): the reduction of the highest rank <= the child's rank
    # applies, so {2: 10, 3: 20} means 2nd child −10 %, 3rd and next −20 %.
    sibling_reductions: tuple[tuple[int, Decimal], ...] = ()
    non_resident_surcharge_percent: Decimal = ZERO
    absences: AbsenceRules = field(default_factory=AbsenceRules)

    def __post_init__(self) -> None:
        try:  # "grid" from a caller becomes TariffKind.GRID: the checks below use `is`
            object.__setattr__(self, "kind", TariffKind(self.kind))
        except ValueError:
            raise PricingError(f"Type de tarif « {self.kind} » inconnu.") from None
        if self.kind is TariffKind.GRID:
            _check_brackets(self.brackets)
        elif self.kind is TariffKind.EFFORT_RATE:
            if self.rate_percent is None or self.floor is None or self.ceiling is None:
                raise PricingError("Un taux d'effort demande un taux, un plancher et un plafond.")
            if self.rate_percent <= 0:
                raise PricingError("Le taux d'effort doit être positif.")
            _check_money(self.floor, "plancher")
            _check_money(self.ceiling, "plafond")
            if self.floor > self.ceiling:
                raise PricingError("Le plancher doit être inférieur ou égal au plafond.")
        elif self.kind is TariffKind.FLAT:
            if self.price is None:
                raise PricingError("Un tarif forfaitaire demande un prix.")
            _check_money(self.price, "prix")
        ranks = [rank for rank, _ in self.sibling_reductions]
        if ranks != sorted(set(ranks)) or any(rank < 2 for rank in ranks):
            raise PricingError(
                "Les réductions fratrie se donnent par rang (2, 3...), sans doublon."
            )
        for _, percent in self.sibling_reductions:
            _check_percent(percent, "réduction fratrie")
        if self.non_resident_surcharge_percent < 0:
            raise PricingError("La majoration hors commune ne peut pas être négative.")

    def sibling_reduction(self, child_rank: int) -> Decimal:
        percent = ZERO
        for rank, value in self.sibling_reductions:
            if rank <= child_rank:
                percent = value
        return percent


@dataclass(frozen=True)
class ServiceTariff:
    """Every version of one service's tariff (service code from the town's YAML)."""

    service_code: str
    versions: tuple[TariffVersion, ...]
    label: str = ""  # the service's name, for the simulator
    sessions_per_month: int = 0  # typical count, for the simulator's monthly estimate

    def __post_init__(self) -> None:
        days = [v.applies_from for v in self.versions]
        if not days:
            raise PricingError(f"Le tarif « {self.service_code} » n'a aucune version.")
        if days != sorted(set(days)):
            raise PricingError(
                f"Les versions du tarif « {self.service_code} » doivent avoir des dates "
                "d'application distinctes, dans l'ordre."
            )

    def version_on(self, day: date) -> TariffVersion:
        """The version in force on `day`: the latest one applying from `day` or before."""
        current = None
        for version in self.versions:
            if version.applies_from <= day:
                current = version
        if current is None:
            raise PricingError(
                f"Aucun tarif « {self.label or self.service_code} » en vigueur le {day:%d/%m/%Y}."
            )
        return current


@dataclass(frozen=True)
class BillingSettings:
    """A town's tariffs, by service code."""

    services: Mapping[str, ServiceTariff]

    def tariff(self, service_code: str) -> ServiceTariff:
        try:
            return self.services[service_code]
        except KeyError:
            raise PricingError(
                f"Aucun tarif n'est défini pour le service « {service_code} »."
            ) from None


# --- pricing one session --------------------------------------------------


@dataclass(frozen=True)
class PriceLine:
    """One billed (or free) session of one child."""

    service_code: str
    day: date
    amount: Decimal  # rounded to the cent: the only rounding
    attendance: Attendance
    billed_percent: Decimal  # share of the session's price billed (absences)
    quantity: Decimal
    unit: str
    tariff_applies_from: date
    bracket: int | None  # 1-based grid bracket, None for other kinds or no QF
    steps: tuple[str, ...]

    @property
    def explanation(self) -> str:
        return " ; ".join(self.steps)


def price_session(
    tariff: ServiceTariff,
    *,
    day: date,
    qf: Decimal | int | None,
    child_rank: int = 1,
    resident: bool = True,
    attendance: Attendance = Attendance.BOOKED,
    illness_start: date | None = None,
    quantity: Decimal | int = 1,
) -> PriceLine:
    """Price one session of one child on `day`.

    qf: the household's quotient familial in euros, None when the family gave
    none (then the highest price applies, the towns' usual rule). child_rank:
    1 for the first child of the household registered to the service, 2 for
    the second... (the caller orders the children; eldest first is usual).
    quantity: hours for hourly care, else 1. illness_start: first day of the
    illness absence, needed for Attendance.ILLNESS (carence).
    """
    version = tariff.version_on(day)
    attendance = Attendance(attendance)
    qf_euros = _qf_euros(qf)
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise PricingError("La quantité facturée doit être positive.")
    if child_rank < 1:
        raise PricingError("Le rang de l'enfant commence à 1.")

    value, bracket, steps = _base_price(version, qf_euros)

    reduction = version.sibling_reduction(child_rank)
    if reduction:
        value = value * (HUNDRED - reduction) / HUNDRED
        steps.append(f"{_ordinal(child_rank)} enfant −{_num(reduction)} % : {euros(value)}")

    surcharge = version.non_resident_surcharge_percent
    if not resident and surcharge:
        value = value * (HUNDRED + surcharge) / HUNDRED
        steps.append(f"hors commune +{_num(surcharge)} % : {euros(value)}")

    if quantity != 1:
        value = value * quantity
        steps.append(f"× {_num(quantity)} {_plural(version.unit, quantity)} : {euros(value)}")

    percent, absence_step = _billed_percent(version.absences, attendance, day, illness_start)
    if absence_step is not None:
        value = value * percent / HUNDRED
        steps.append(f"{absence_step} : {euros(value)}")

    return PriceLine(
        service_code=tariff.service_code,
        day=day,
        amount=round_cent(value),
        attendance=attendance,
        billed_percent=percent,
        quantity=quantity,
        unit=version.unit,
        tariff_applies_from=version.applies_from,
        bracket=bracket,
        steps=tuple(steps),
    )


def round_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _qf_euros(qf: Decimal | int | None) -> Decimal | None:
    if qf is None:
        return None
    qf = Decimal(qf)
    if qf < 0:
        raise PricingError("Le quotient familial ne peut pas être négatif.")
    # Brackets are whole euros (CAF attestations show a whole QF); a computed
    # QF is taken at the euro below: with tariffs rising with the QF, that
    # never costs a family more.
    return qf.to_integral_value(rounding=ROUND_FLOOR)


def _base_price(
    version: TariffVersion, qf: Decimal | None
) -> tuple[Decimal, int | None, list[str]]:
    if version.kind is TariffKind.FLAT:
        return version.price, None, [f"tarif unique : {euros(version.price)}"]

    if version.kind is TariffKind.GRID:
        brackets = version.brackets
        if qf is None:
            index = len(brackets) - 1
            head = "QF non communiqué, tarif le plus élevé"
        else:
            index = next(i for i, b in enumerate(brackets) if b.up_to is None or qf <= b.up_to)
            head = f"QF {_int(qf)} €"
        price = brackets[index].price
        label = bracket_label(brackets, index)
        return price, index + 1, [f"{head} → tranche {index + 1} ({label}) : {euros(price)}"]

    # Effort rate.
    if qf is None:
        return (
            version.ceiling,
            None,
            [f"QF non communiqué → plafond du taux d'effort : {euros(version.ceiling)}"],
        )
    raw = qf * version.rate_percent / HUNDRED
    step = f"QF {_int(qf)} € × {_num(version.rate_percent)} % = {euros(raw)}"
    if raw < version.floor:
        return version.floor, None, [f"{step} → plancher : {euros(version.floor)}"]
    if raw > version.ceiling:
        return version.ceiling, None, [f"{step} → plafond : {euros(version.ceiling)}"]
    return raw, None, [step]


def _billed_percent(
    rules: AbsenceRules, attendance: Attendance, day: date, illness_start: date | None
) -> tuple[Decimal, str | None]:
    """(percent of the price billed, explanation step or None when billed as booked)."""
    if attendance is Attendance.BOOKED:
        return HUNDRED, None
    if attendance is Attendance.CANCELLED_IN_TIME:
        return ZERO, "annulé dans les délais, non facturé"
    if attendance is Attendance.JUSTIFIED_ABSENCE:
        return ZERO, "absence justifiée, non facturée"
    if attendance is Attendance.LATE_CANCELLATION:
        p = rules.late_cancellation_percent
        return p, f"annulation hors délai facturée {_num(p)} %"
    if attendance is Attendance.UNJUSTIFIED_ABSENCE:
        p = rules.unjustified_percent
        return p, f"absence non justifiée facturée {_num(p)} %"
    # Illness: the carence days are billed like an unjustified absence (so a
    # justified absence never costs more than an unjustified one), then free.
    if illness_start is None:
        raise PricingError("Indiquez le premier jour de l'absence pour maladie.")
    nth_day = (day - illness_start).days + 1
    if nth_day < 1:
        raise PricingError("L'absence pour maladie commence après ce jour.")
    n = rules.carence_days
    if nth_day <= n:
        p = rules.unjustified_percent
        return p, (
            f"absence pour maladie, jour de carence {nth_day} sur {n} "
            f"(facturé comme une absence non justifiée, {_num(p)} %)"
        )
    if n:
        days = f"{n} jour{'s' if n > 1 else ''}"
        return ZERO, f"absence pour maladie justifiée, après {days} de carence, non facturée"
    return ZERO, "absence pour maladie justifiée, non facturée"


# --- tariff versions are never retroactive ----------------------------------


def retroactive_changes(
    previous: BillingSettings | None, new: BillingSettings, *, today: date
) -> list[str]:
    """French problems if `new` changes what applied up to `today`.

    A version that applied on or before today must stay as it was (sessions
    may have been billed with it); a new version must apply from tomorrow at
    the earliest. A service with no previous tariff may start in the past:
    nothing was billed for it. Onboarding a new YAML should refuse the file
    when this returns problems.
    """
    if previous is None:
        return []
    problems = []
    for code, new_tariff in new.services.items():
        old_tariff = previous.services.get(code)
        if old_tariff is None:
            continue
        old = {v.applies_from: v for v in old_tariff.versions}
        fresh = {v.applies_from: v for v in new_tariff.versions}
        for day in sorted(set(old) | set(fresh)):
            if day > today:
                continue
            if day not in fresh:
                problems.append(
                    f"tarif « {code} » : la version du {day:%d/%m/%Y} a déjà servi, "
                    "elle ne peut pas être retirée."
                )
            elif day not in old:
                problems.append(
                    f"tarif « {code} » : une nouvelle version ne peut pas s'appliquer "
                    f"au passé ({day:%d/%m/%Y}) ; datez-la au plus tôt de demain."
                )
            elif old[day] != fresh[day]:
                problems.append(
                    f"tarif « {code} » : la version du {day:%d/%m/%Y} a déjà servi, "
                    "elle ne peut pas être modifiée ; ajoutez une nouvelle version."
                )
    return problems


# --- the families' simulator ---------------------------------------------


def caf_parts(*, children: int, disabled_children: int = 0) -> Decimal:
    """Number of parts used by the CAF's quotient familial.

    caf.fr, « Le quotient familial » (the rule the towns' simulators repeat):
    2 parts for the parents (a couple or a single parent), 0.5 part for each of
    the first two dependent children, 1 part for the third, 0.5 part for each
    next one, plus 0.5 part for each disabled child (AEEH).
    """
    if children < 0 or disabled_children < 0 or disabled_children > children:
        raise PricingError("Nombre d'enfants invalide.")
    parts = Decimal(2)
    for nth in range(1, children + 1):
        parts += Decimal(1) if nth == 3 else Decimal("0.5")
    return parts + Decimal("0.5") * disabled_children


def quotient_familial(
    *, annual_income: Decimal | int, monthly_benefits: Decimal | int, parts: Decimal | int
) -> Decimal:
    """QF = (revenus annuels / 12 + prestations mensuelles) / nombre de parts.

    Source: the CAF's definition (caf.fr, « Le quotient familial ») — annual
    income: the household's net taxable income of year N-2 before the 10 %
    allowance ("revenus nets catégoriels"); monthly benefits: the family
    benefits received for the reference month (excluding one-off ones such as
    the back-to-school allowance). Taken at the euro below, like the brackets.
    """
    annual_income, monthly_benefits, parts = map(Decimal, (annual_income, monthly_benefits, parts))
    if annual_income < 0 or monthly_benefits < 0:
        raise PricingError("Les revenus et les prestations ne peuvent pas être négatifs.")
    if parts <= 0:
        raise PricingError("Le nombre de parts doit être positif.")
    qf = (annual_income / 12 + monthly_benefits) / parts
    return qf.to_integral_value(rounding=ROUND_FLOOR)


@dataclass(frozen=True)
class SimulatedService:
    service_code: str
    label: str
    line: PriceLine  # exactly the line billing would compute for one session
    sessions_per_month: int
    monthly_estimate: Decimal
    counted: bool = True  # in the monthly total (what one child can attend)

    @property
    def explanation(self) -> str:
        unit = _plural(self.line.unit, self.sessions_per_month)
        return (
            f"{self.line.explanation} ; {self.sessions_per_month} {unit} par mois : "
            f"{euros(self.monthly_estimate)}"
        )


@dataclass(frozen=True)
class Simulation:
    qf: Decimal | None
    qf_explanation: str
    services: tuple[SimulatedService, ...]
    unavailable: tuple[str, ...]  # service codes with no tariff in force that day
    monthly_total: Decimal


def simulate(
    settings: BillingSettings,
    *,
    day: date,
    qf: Decimal | int | None = None,
    annual_income: Decimal | int | None = None,
    monthly_benefits: Decimal | int = 0,
    parts: Decimal | int | None = None,
    child_rank: int = 1,
    resident: bool = True,
    sessions_per_month: Mapping[str, int] | None = None,
    services: Iterable[str] | None = None,
    counted: Iterable[str] | None = None,
) -> Simulation:
    """Each service's price on `day` and a monthly estimate, for one child.

    Give either `qf` (from the CAF attestation) or the CAF figures
    (`annual_income`, `monthly_benefits`, `parts`); neither = QF not given,
    the highest price applies. The price is `price_session()`'s, the very
    function the invoicing run uses. `counted`: the services the monthly
    total adds (those one child can attend, simulation.py); None: all.
    """
    if qf is not None and annual_income is not None:
        raise PricingError("Indiquez soit votre quotient familial, soit vos revenus, pas les deux.")
    if annual_income is not None:
        if parts is None:
            raise PricingError("Indiquez le nombre de parts de votre foyer.")
        qf = quotient_familial(
            annual_income=annual_income, monthly_benefits=monthly_benefits, parts=parts
        )
        qf_explanation = (
            f"QF = ({euros(Decimal(annual_income))} / 12 + {euros(Decimal(monthly_benefits))}) "
            f"/ {_num(Decimal(parts))} part{'s' if Decimal(parts) > 1 else ''} = {_int(qf)} €"
        )
    elif qf is not None:
        qf = _qf_euros(qf)
        qf_explanation = f"QF {_int(qf)} €"
    else:
        qf_explanation = "QF non communiqué : le tarif le plus élevé s'applique."

    counts = dict(sessions_per_month or {})
    counted = None if counted is None else set(counted)
    wanted = list(services) if services is not None else list(settings.services)
    results, unavailable = [], []
    for code in wanted:
        tariff = settings.tariff(code)
        try:
            tariff.version_on(day)
        except PricingError:
            unavailable.append(code)
            continue
        line = price_session(tariff, day=day, qf=qf, child_rank=child_rank, resident=resident)
        count = counts.get(code, tariff.sessions_per_month)
        if count < 0:
            raise PricingError("Le nombre de séances par mois ne peut pas être négatif.")
        results.append(
            SimulatedService(
                service_code=code,
                label=tariff.label or code,
                line=line,
                sessions_per_month=count,
                monthly_estimate=line.amount * count,
                counted=counted is None or code in counted,
            )
        )
    return Simulation(
        qf=qf,
        qf_explanation=qf_explanation,
        services=tuple(results),
        unavailable=tuple(unavailable),
        monthly_total=sum((s.monthly_estimate for s in results if s.counted), ZERO),
    )


# --- French formatting ------------------------------------------------------

_NNBSP = "\u202f"  # French thousands separator (narrow no-break space)


def euros(value: Decimal) -> str:
    """3.2 -> '3,20 €'; 1234.5 -> '1 234,50 €' (display rounding only): the
    product's one formatting (core.french.euros, the `euros` template filter),
    with a plain space for e-mails, PDFs and explanations."""
    return french_euros(value, space=" ")


def bracket_label(brackets: tuple[Bracket, ...], index: int) -> str:
    """'0–600 €', '601–900 €', '901 € et plus' (whole-euro QF brackets)."""
    low = 0 if index == 0 else brackets[index - 1].up_to + 1
    up_to = brackets[index].up_to
    if up_to is None:
        return f"{_int(low)} € et plus"
    return f"{_int(low)}–{_int(up_to)} €"


def _int(value) -> str:
    return f"{int(value):,}".replace(",", _NNBSP)


def _num(value: Decimal) -> str:
    """10 -> '10', 0.45 -> '0,45', 2.50 -> '2,5'."""
    text = format(Decimal(value).normalize(), "f")
    return text.replace(".", ",")


def _ordinal(rank: int) -> str:
    return "1er" if rank == 1 else f"{rank}e"


def _plural(unit: str, count) -> str:
    if Decimal(count) < 2 or unit.endswith(("s", "x")):
        return unit
    return " ".join(word + "s" if i == 0 else word for i, word in enumerate(unit.split(" ")))


# --- invariants -------------------------------------------------------------


def _check_money(value: Decimal, name: str) -> None:
    if value < 0:
        raise PricingError(f"Le {name} ne peut pas être négatif.")
    if value != value.quantize(CENT):
        raise PricingError(f"Le {name} ({value}) doit être en euros et centimes.")


def _check_percent(value: Decimal, name: str) -> None:
    if not ZERO <= value <= HUNDRED:
        raise PricingError(f"{name} : un pourcentage est compris entre 0 et 100.")


def _check_brackets(brackets: tuple[Bracket, ...]) -> None:
    if not brackets:
        raise PricingError("Une grille demande au moins une tranche.")
    if brackets[-1].up_to is not None:
        raise PricingError("La dernière tranche de la grille doit être ouverte (sans « up_to »).")
    bounds = [b.up_to for b in brackets[:-1]]
    if any(b is None for b in bounds):
        raise PricingError("Seule la dernière tranche de la grille peut être ouverte.")
    if any(b < 0 for b in bounds) or bounds != sorted(set(bounds)):
        raise PricingError("Les bornes des tranches doivent être croissantes.")
    for b in brackets:
        _check_money(b.price, "prix")
