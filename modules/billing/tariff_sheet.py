"""The public tariff sheet: PURE (no ORM, no request).

What the town's public « Tarifs » page shows is built here from the very
`BillingSettings` the invoicing run prices with (tariffs.py parses them from
the town's YAML, `module_settings.billing`), so the page can never contradict
an invoice: brackets and their prices, effort rates with their floor and
ceiling, flat prices, sibling reductions, the non-resident surcharge and the
absence rules, for the version in force on `day` and the next one announced.
Every figure is formatted by pricing's own helpers (« 2,10 € », « 451–700 € »).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .pricing import (
    HUNDRED,
    BillingSettings,
    PricingError,
    ServiceTariff,
    TariffKind,
    TariffVersion,
    _int,
    _num,
    bracket_label,
    euros,
)


@dataclass(frozen=True)
class PriceRow:
    """One line of a service's table: who (a QF bracket, « tous ») and the price."""

    who: str
    price: str
    low: int | None = None  # QF bracket bounds (whole euros), for grids
    high: int | None = None


@dataclass(frozen=True)
class VersionSheet:
    applies_from: date  # shown with |date_fr
    kind: str  # French: « selon le quotient familial », « taux d'effort », « tarif unique »
    unit: str
    rows: tuple[PriceRow, ...]
    effort: str  # the effort-rate sentence, "" for other kinds
    modifiers: tuple[str, ...]  # sibling reductions, non-resident surcharge
    absences: tuple[str, ...]


@dataclass(frozen=True)
class ServiceSheet:
    service_code: str
    label: str
    current: VersionSheet
    coming: tuple[VersionSheet, ...]  # versions announced after `day`


def version_sheet(version: TariffVersion) -> VersionSheet:
    unit = version.unit
    rows: list[PriceRow] = []
    effort = ""
    if version.kind is TariffKind.GRID:
        kind = "selon le quotient familial"
        low = 0
        for i, bracket in enumerate(version.brackets):
            rows.append(
                PriceRow(
                    who=f"QF {bracket_label(version.brackets, i)}",
                    price=euros(bracket.price),
                    low=low,
                    high=bracket.up_to,
                )
            )
            low = (bracket.up_to or 0) + 1
        rows.append(PriceRow(who="QF non communiqué", price=euros(version.brackets[-1].price)))
    elif version.kind is TariffKind.EFFORT_RATE:
        kind = "taux d'effort"
        effort = (
            f"Prix par {unit} = quotient familial × {_num(version.rate_percent)} %, "
            f"au minimum {euros(version.floor)} et au maximum {euros(version.ceiling)}."
        )
        rows = [
            PriceRow(who="Prix minimum (plancher)", price=euros(version.floor)),
            PriceRow(who="Prix maximum (plafond)", price=euros(version.ceiling)),
            PriceRow(who="QF non communiqué", price=euros(version.ceiling)),
        ]
    else:
        kind = "tarif unique"
        rows = [PriceRow(who="Toutes les familles", price=euros(version.price))]
    return VersionSheet(
        applies_from=version.applies_from,
        kind=kind,
        unit=unit,
        rows=tuple(rows),
        effort=effort,
        modifiers=tuple(_modifiers(version)),
        absences=tuple(_absences(version)),
    )


def _modifiers(version: TariffVersion) -> list[str]:
    out = []
    last = version.sibling_reductions[-1][0] if version.sibling_reductions else None
    for rank, percent in version.sibling_reductions:
        more = " et suivants" if rank == last else ""
        out.append(f"{rank}e enfant{more} du foyer inscrit au service : −{_num(percent)} %")
    surcharge = version.non_resident_surcharge_percent
    if surcharge:
        out.append(f"Familles domiciliées hors de la commune : +{_num(surcharge)} %")
    return out


def _absences(version: TariffVersion) -> list[str]:
    rules = version.absences
    out = [
        _billed("Absence non justifiée", rules.unjustified_percent),
        _billed("Annulation après la date limite", rules.late_cancellation_percent),
        "Absence justifiée : non facturée",
    ]
    if rules.carence_days:
        days = f"{_int(rules.carence_days)} jour{'s' if rules.carence_days > 1 else ''}"
        out.append(
            f"Maladie avec certificat médical : les {days} de carence sont facturés comme une "
            "absence non justifiée, la suite n'est pas facturée"
            if rules.carence_days > 1
            else "Maladie avec certificat médical : le premier jour (carence) est facturé comme "
            "une absence non justifiée, la suite n'est pas facturée"
        )
    else:
        out.append("Maladie avec certificat médical : non facturée")
    return out


def _billed(what: str, percent: Decimal) -> str:
    if percent == HUNDRED:
        return f"{what} : facturée en entier"
    if not percent:
        return f"{what} : non facturée"
    return f"{what} : facturée à {_num(percent)} %"


def service_sheet(tariff: ServiceTariff, *, day: date) -> ServiceSheet | None:
    """The sheet of one service on `day`; None when no version is in force
    yet and none is announced."""
    try:
        current = tariff.version_on(day)
    except PricingError:
        current = None
    coming = [v for v in tariff.versions if v.applies_from > day]
    if current is None and not coming:
        return None
    if current is None:
        current, coming = coming[0], coming[1:]
    return ServiceSheet(
        service_code=tariff.service_code,
        label=tariff.label or tariff.service_code,
        current=version_sheet(current),
        coming=tuple(version_sheet(v) for v in coming),
    )


def tariff_sheet(
    settings: BillingSettings, *, day: date, order: Iterable[str] | None = None
) -> list[ServiceSheet]:
    """Every billed service's sheet, in `order` (the town's service codes)
    first, then the others."""
    codes = list(settings.services)
    if order is not None:
        rank = {code: i for i, code in enumerate(order)}
        codes.sort(key=lambda c: rank.get(c, len(rank)))
    sheets = (service_sheet(settings.services[c], day=day) for c in codes)
    return [s for s in sheets if s is not None]


def row_for_qf(sheet: VersionSheet, qf: int | None) -> PriceRow:
    """The grid row a QF falls in (tests and the simulator's « voir la grille »)."""
    for row in sheet.rows:
        if row.low is None:
            continue
        if qf is not None and qf >= row.low and (row.high is None or qf <= row.high):
            return row
    return sheet.rows[-1]
