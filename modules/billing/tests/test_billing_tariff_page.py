"""#14 item 6: the public tariff page is generated from the tariff
configuration the invoicing run prices with; the page, the simulator and a
real invoice agree for three QF values in every launch town. The simulator's
monthly total adds only what one child can attend."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from modules.billing import services
from modules.billing.lines import BookingFact, HouseholdFacts, build_drafts
from modules.billing.pricing import euros, simulate
from modules.billing.simulation import SCHOOL, YOUNG, ServiceFact, counted_services, next_month
from modules.billing.tariff_sheet import row_for_qf, service_sheet, tariff_sheet
from modules.billing.tariffs import billing_settings_from_town_config
from modules.billing.town_settings import invoicing_settings_from_town_config

CONFIGS = Path(__file__).resolve().parents[3] / "tenant_configs"
TOWNS = ["bassens", "bondoufle", "castres", "chalonnes", "donges"]
# Multiples of 100: every town's effort rate gives whole cents, so an hourly
# line's unit price is exactly the page's and the simulator's.
QFS = (400, 800, 1600)
DAY = date(2026, 10, 5)  # a Monday of term, every town's tariffs in force


def _town(slug):
    return yaml.safe_load((CONFIGS / f"{slug}.yaml").read_text(encoding="utf-8"))


def _page_price(version_html: str, version, qf: int) -> str:
    """The price a family with `qf` reads on the rendered page."""
    if version.effort:
        found = re.search(
            r"× ([\d,]+) %, au minimum ([\d,]+)\s€ et au maximum ([\d,]+)\s€",
            version_html.replace("\u202f", ""),
        )
        assert found, version_html
        rate, floor, ceiling = (Decimal(g.replace(",", ".")) for g in found.groups())
        value = min(max(Decimal(qf) * rate / 100, floor), ceiling)
        return euros(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    row = row_for_qf(version, qf) if version.rows[0].low is not None else version.rows[0]
    cell = re.search(
        rf'<th scope="row">{re.escape(row.who)}</th><td data-label="[^"]*">([^<]*)</td>',
        version_html,
    )
    assert cell, (row.who, version_html)
    return cell.group(1)


@pytest.mark.parametrize("slug", TOWNS)
def test_page_simulator_and_invoice_agree_for_three_qf_in_every_town(slug):
    data = _town(slug)
    settings = billing_settings_from_town_config(data)
    invoicing = invoicing_settings_from_town_config(data)
    names = {s["code"]: s["name"] for s in data["services"]}
    sheets = tariff_sheet(settings, day=DAY, order=list(names))
    assert [s.service_code for s in sheets] == [c for c in names if c in settings.services]
    assert len(sheets) == len(settings.services)  # every billed service is published
    for sheet in sheets:
        html = render_to_string(
            "billing/_tariff_version.html",
            {"v": sheet.current, "label": sheet.label, "current": True},
        )
        assert sheet.label == names[sheet.service_code]
        for qf in QFS:
            simulated = simulate(settings, day=DAY, qf=qf, services=[sheet.service_code])
            unit_price = simulated.services[0].line.amount
            facts = [
                BookingFact(
                    booking_id=1,
                    child_id=1,
                    household_id=1,
                    child_name="Camille",
                    child_birth_date=date(2018, 5, 14),
                    service_code=sheet.service_code,
                    service_name=sheet.label,
                    day=DAY,
                    status="booked",
                )
            ]
            built = build_drafts(
                facts,
                households={1: HouseholdFacts(1, qf)},
                tariffs=settings,
                invoicing=invoicing,
                quantities=invoicing.quantities,
            )
            (line,) = built.drafts[0].lines
            assert line.amount == (unit_price * line.quantity).quantize(Decimal("0.01")), (
                slug,
                sheet.service_code,
                qf,
            )
            assert _page_price(html, sheet.current, qf) == euros(unit_price), (
                slug,
                sheet.service_code,
                qf,
            )


def test_the_sheet_says_siblings_non_residents_absences_and_coming_versions():
    settings = billing_settings_from_town_config(_town("castres"))
    sheet = service_sheet(settings.tariff("restauration-scolaire"), day=date(2026, 8, 1))
    assert sheet.current.applies_from == date(2025, 9, 1)
    assert [v.applies_from for v in sheet.coming] == [date(2026, 9, 1)]
    assert [r.who for r in sheet.current.rows][:2] == ["QF 0–450 €", "QF 451–700 €"]
    assert sheet.current.rows[-1].who == "QF non communiqué"
    assert "2e enfant du foyer inscrit au service : −10 %" in sheet.current.modifiers
    assert "3e enfant et suivants du foyer inscrit au service : −20 %" in sheet.current.modifiers
    assert "Familles domiciliées hors de la commune : +20 %" in sheet.current.modifiers
    assert "Absence non justifiée : facturée en entier" in sheet.current.absences
    assert any("carence" in a for a in sheet.current.absences)
    # Bondoufle: a late cancellation is billed half.
    bondoufle = billing_settings_from_town_config(_town("bondoufle"))
    matin = service_sheet(bondoufle.tariff("accueil-matin"), day=DAY)
    assert matin.current.kind == "taux d'effort" and "× 0,2 %" in matin.current.effort
    assert "Annulation après la date limite : facturée à 50 %" in matin.current.absences


def test_the_total_counts_only_what_one_child_can_attend():
    facts = [
        ServiceFact("restauration-scolaire", "periscolaire", "restauration_scolaire"),
        ServiceFact("alsh-mercredi", "alsh", "alsh_mercredi"),
        ServiceFact("multi-accueil-occasionnel", "petite_enfance", "creche_occasionnelle"),
        ServiceFact("multi-accueil-regulier", "petite_enfance", "creche_reguliere"),
    ]
    school = counted_services(facts, SCHOOL)
    assert school.counted == ("restauration-scolaire", "alsh-mercredi")
    assert set(school.notes) == {"multi-accueil-occasionnel", "multi-accueil-regulier"}
    young = counted_services(facts, YOUNG)
    assert young.counted == ("multi-accueil-regulier",)  # one crèche formula, the regular place
    assert "une seule" in young.notes["multi-accueil-occasionnel"]
    assert next_month(date(2026, 12, 7)) == (date(2027, 1, 1), date(2027, 1, 31))
    assert next_month(date(2027, 1, 31)) == (date(2027, 2, 1), date(2027, 2, 28))
    settings = billing_settings_from_town_config(_town("donges"))
    result = simulate(settings, day=DAY, qf=800, counted=school.counted)
    assert result.monthly_total == sum(
        (s.monthly_estimate for s in result.services if s.service_code in school.counted),
        Decimal(0),
    )
    creche = next(s for s in result.services if s.service_code == "multi-accueil-regulier")
    assert not creche.counted


# --- through HTTP, with a real invoice, in every launch town ----------------------------------

# The services a school child books on a school day (Monday, Tuesday, Thursday, Friday).
SCHOOL_DAY_KINDS = {
    "restauration_scolaire",
    "accueil_matin",
    "accueil_soir",
    "etudes",
    "transport_scolaire",
}


@pytest.mark.parametrize("slug", TOWNS)
def test_the_public_page_the_simulator_and_a_real_invoice_agree(slug, launch_town, in_town):
    from modules.billing.models import Invoice
    from modules.billing.testing import (
        billed_month,
        book,
        issue_day,
        make_invoiced_family,
        school_days,
    )

    commune = launch_town(slug)
    client = Client()
    page = client.get(f"/{slug}/billing/tarifs/")
    assert page.status_code == 200
    html = page.content.decode()
    with in_town(commune):
        tariffs, invoicing = services.town_settings(commune)
        booked = [
            s["code"]
            for s in _town(slug)["services"]
            if s["kind"] in SCHOOL_DAY_KINDS and s["code"] in tariffs.services
        ]
        assert "restauration-scolaire" in booked and len(booked) >= 2, booked
        year, month = billed_month()
        families = {}
        for i, qf in enumerate(QFS):
            fam = make_invoiced_family(commune, last_name=f"Tarif{i}", run=False, days=2)
            fam.household.quotient_familial = qf
            fam.household.save(update_fields=["quotient_familial"])
            for code in booked:
                if code != "restauration-scolaire":  # make_invoiced_family booked the meals
                    book(fam.child, code, school_days(year, month, count=2))
            families[qf] = fam
        services.run_month(commune=commune, year=year, month=month, today=issue_day(), notify=False)
        lines = {
            qf: list(Invoice.objects.get(household=fam.household).lines.all())
            for qf, fam in families.items()
        }
    today = timezone.localdate()
    for sheet in tariff_sheet(tariffs, day=today):
        assert escape(sheet.label) in html  # every billed service has its table
    # Low, middle and high: three brackets, three prices of the school meal.
    meal = {simulate(tariffs, day=today, qf=qf, services=["restauration-scolaire"]) for qf in QFS}
    assert len({m.services[0].line.amount for m in meal}) == 3, slug
    for qf, invoice_lines in lines.items():
        assert {line.service_code for line in invoice_lines} == set(booked), (slug, qf)
        assert len(invoice_lines) == 2 * len(booked), (slug, qf)
        posted = client.post(
            f"/{slug}/billing/simulateur/", {"mode": "qf", "qf": str(qf), "resident": "on"}
        ).content.decode()
        for line in invoice_lines:
            where = (slug, qf, line.service_code)
            # The invoice line = the simulator and the page on the line's day...
            simulated = simulate(tariffs, day=line.day, qf=qf, services=[line.service_code])
            unit_price = simulated.services[0].line.amount
            assert line.amount == (unit_price * line.quantity).quantize(Decimal("0.01")), where
            version = service_sheet(tariffs.tariff(line.service_code), day=line.day).current
            version_html = render_to_string(
                "billing/_tariff_version.html", {"v": version, "label": "x", "current": True}
            )
            assert _page_price(version_html, version, qf) == euros(unit_price), where
            # ...and the simulator page and the public page show today's price.
            today_price = simulate(tariffs, day=today, qf=qf, services=[line.service_code])
            label = escape(tariffs.tariff(line.service_code).label)
            shown = re.search(
                rf'<th scope="row">{re.escape(label)}</th>\s*<td data-label="Prix">([^<]*) / ',
                posted,
            )
            assert shown, where
            assert shown.group(1) == euros(today_price.services[0].line.amount), where
            current = service_sheet(tariffs.tariff(line.service_code), day=today).current
            section = html.split(f'id="tarif-{line.service_code}"', 1)[1].split("</section>")[0]
            assert _page_price(section, current, qf) == euros(
                today_price.services[0].line.amount
            ), where


def test_the_simulator_total_leaves_out_what_the_child_cannot_attend(castres):
    client = Client()
    school = client.post(
        "/castres/billing/simulateur/",
        {"mode": "qf", "qf": "800", "resident": "on", "child": "scolaire"},
    ).content.decode()
    assert "non compté" in school and "accueil des enfants non scolarisés" in school
    young = client.post(
        "/castres/billing/simulateur/",
        {"mode": "qf", "qf": "800", "resident": "on", "child": "petite_enfance"},
    ).content.decode()
    assert "pas pour un enfant non scolarisé" in young
    totals = [re.search(r'data-label="Total">([^<]*)<', h).group(1) for h in (school, young)]
    assert totals[0] != totals[1]
    bad = client.post(
        "/castres/billing/simulateur/", {"mode": "qf", "qf": "800", "child": "adulte"}
    )
    assert bad.status_code == 200 and "Choisissez l&#x27;un des deux" in bad.content.decode()
