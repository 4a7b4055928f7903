"""The family space in real Chromium, on a phone (390×844) and a desktop
(1280×800), for a Castres family with two children: sign in; from the
dashboard, one tap to booking, absences, invoices, documents and the vault;
canteen + evening care for both children over two weeks in ONE confirmation
with the total shown first; a 3-day absence for one child across her services
in one form; two invoices paid in one payment with the demo provider, both
then paid. On every page: nothing scrolls sideways, axe-core finds nothing.
Screenshots in test-artifacts/family-space/ (git-ignored).

The live server commits: the rows are written in Castres' schema and removed
afterwards (the flush only empties the public schema).
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

PASSWORD = "mot-de-passe-de-test-assez-long"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "family-space"
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 800)}


def _weekdays(start: date, count: int) -> list[date]:
    days, d = [], start
    while len(days) < count:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


@pytest.fixture
def two_children(live_town, settings, django_db_blocker):
    from accounts.models import User
    from booking.models import Activity, DaySlot, Registration
    from booking.rules import school_year_of
    from booking.services import book_days
    from core.models import Service
    from families.models import Adult, Child, Household
    from modules.billing import services
    from modules.billing.lines import previous_month
    from modules.billing.testing import billed_month, book, issue_day, purge_households
    from modules.billing.testing import school_days as month_days
    from tenants.models import Commune
    from tenants.testing import edit_town_config

    settings.LOGIN_URL = "/connexion/"
    with django_db_blocker.unblock():
        castres = Commune.objects.get(slug="castres")
        with tenant_context(castres):
            previous_payment = copy.deepcopy(castres.config["payment"])
            edit_town_config(castres, {"payment": {"provider": "dummy"}})
            user = User.objects.create_user(
                username="famille-espace",
                email="espace@example.org",
                password=PASSWORD,
                role=User.Role.FAMILY,
                first_name="Claire",
                last_name="Espace",
            )
            household = Household.objects.create(
                name="Famille Espace",
                address_line="1 rue Haute",
                postcode="81100",
                city="Castres",
                quotient_familial=480,
            )
            adult = Adult.objects.create(
                household=household,
                user=user,
                first_name="Claire",
                last_name="Espace",
                email=user.email,
            )
            kids = []
            for name, born in (("Constance", date(2017, 4, 2)), ("Jules", date(2019, 9, 20))):
                kid = Child.objects.create(
                    household=household, first_name=name, last_name="Espace", birth_date=born
                )
                kid.guardians.add(adult)
                kids.append(kid)
            today = date.today()
            # Two weeks far enough ahead for Castres' 7-day limit...
            first = today + timedelta(days=9)
            first += timedelta(days=(7 - first.weekday()) % 7)  # a Monday
            booking_days = _weekdays(first, 10)
            # ...and three days too close to cancel: they can only be reported absent.
            absence_days = _weekdays(today + timedelta(days=1), 3)
            activities = [
                Activity.objects.get(code="restauration-scolaire--ecole-centre"),
                Activity.objects.get(code="accueil-soir--ecole-centre"),
            ]
            slots = []
            for activity in activities:
                for d in booking_days + absence_days:
                    slots.append(
                        DaySlot.objects.get_or_create(
                            activity=activity, day=d, defaults={"capacity": 20}
                        )[0]
                    )
                for kid in kids:
                    for year in sorted({school_year_of(d) for d in booking_days + absence_days}):
                        Registration.objects.get_or_create(
                            child=kid,
                            service=activity.service,
                            school_year=year,
                            defaults={"site": activity.site, "status": "accepted"},
                        )
                book_days(child=kids[0], activity=activity, days=absence_days, staff=True)
            # Two unpaid invoices: last month and the month before.
            year, month = billed_month()
            older_year, older_month = previous_month(date(year, month, 1))
            for y, m in ((older_year, older_month), (year, month)):
                book(kids[0], "restauration-scolaire", month_days(y, m, count=3))
                services.run_month(
                    commune=castres, year=y, month=m, today=issue_day(), notify=False
                )
            assert Service.objects.filter(code="accueil-soir").exists()
        connection.set_schema_to_public()
    fam = type(
        "Family",
        (),
        {
            "commune": castres,
            "user": user,
            "household": household,
            "children": kids,
            "booking_days": booking_days,
            "absence_days": absence_days,
            "slots": slots,
        },
    )
    yield fam
    with django_db_blocker.unblock():
        with tenant_context(castres):
            Registration.objects.filter(child__in=kids).delete()
            purge_households([household.pk])
            DaySlot.objects.filter(pk__in=[s.pk for s in slots], bookings__isnull=True).delete()
            Activity.objects.filter(name__startswith="Activité de test").filter(
                slots__isnull=True
            ).delete()
            edit_town_config(castres, {"payment": previous_payment})
        connection.set_schema_to_public()


class Visit:
    """Every page visited: no sideways scroll, no axe violation, a screenshot."""

    def __init__(self, page, axe, name):
        self.page, self.axe, self.name, self.n = page, axe, name, 0

    def check(self, label: str):
        self.page.wait_for_load_state("networkidle")
        self.n += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(
            path=str(ARTIFACTS / f"{self.name}-{self.n:02d}-{label}.png"), full_page=True
        )
        widths = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"{label}: scrolls sideways {widths}"
        violations = self.axe(self.page)
        assert not violations, f"{label}: {self.axe.format(violations)}"


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_castres_family_space_journey(page, live_town, two_children, axe, viewport):
    from booking.models import Absence, Booking
    from modules.billing.models import Invoice

    fam = two_children
    width, height = VIEWPORTS[viewport]
    page.set_viewport_size({"width": width, "height": height})
    base = f"{live_town.url}/castres"
    visit = Visit(page, axe, viewport)

    # Sign in: the dashboard is where every login lands.
    page.goto(f"{base}/compte/connexion/")
    page.locator("input[name=identifier]").fill(fam.user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/mon-espace/")
    visit.check("tableau-de-bord")
    dashboard = page.url

    # One tap from the dashboard to each daily task.
    nav = page.get_by_role("navigation", name="Mon espace")
    for label, name, heading in (
        ("Réservations", "nav", "Réservations"),
        ("Absences", "nav", "Signaler une absence"),
        ("Factures", "nav", "Mes factures"),
        ("Documents", "nav", None),
        ("Coffre-fort personnel", "card", None),
    ):
        where = nav if name == "nav" else page.locator("#contenu")
        where.get_by_role("link", name=label, exact=True).first.click()
        page.wait_for_load_state()
        if heading:
            assert page.get_by_role("heading", level=1).inner_text() == heading
        visit.check(label.split()[0].lower())
        page.goto(dashboard)

    # Book canteen + evening care for both children, two weeks, ONE confirmation.
    nav.get_by_role("link", name="Réservations", exact=True).click()
    first, last = fam.booking_days[0], fam.booking_days[-1]
    page.goto(f"{base}/mon-espace/reservations/?vue=semaine&date={first.isoformat()}")
    form = page.locator("form[action$='/jours-fixes/?vue=semaine&date=" + first.isoformat() + "']")
    for label in ("Restauration scolaire", "Accueil périscolaire du soir"):
        form.get_by_label(label, exact=True).check()
    for child in fam.children:
        form.get_by_label(child.first_name, exact=True).check()
    for day in ("lundi", "mardi", "mercredi", "jeudi", "vendredi"):
        form.get_by_label(day, exact=True).check()
    form.get_by_label("Du", exact=True).fill(first.isoformat())
    form.get_by_label("Au (inclus)", exact=True).fill(last.isoformat())
    form.get_by_role("button", name="Ajouter ces jours au panier").click()
    page.wait_for_load_state()
    basket = page.locator("#panier")
    total = basket.locator(".basket__total").inner_text()
    assert total.startswith("Total : + ") and "€" in total, total
    confirm = basket.get_by_role("button", name="Confirmer 40 changements")
    assert confirm.is_visible()
    visit.check("panier")
    confirm.click()
    page.wait_for_load_state()
    assert page.get_by_text("Restauration scolaire : 20 jour(s) réservé(s)").is_visible()
    assert page.get_by_text("Accueil périscolaire du soir : 20 jour(s) réservé(s)").is_visible()
    visit.check("reservations-confirmees")
    with tenant_context(fam.commune):
        assert (
            Booking.objects.filter(
                child__in=fam.children, slot__day__in=fam.booking_days, status="booked"
            ).count()
            == 40
        )
    connection.set_schema_to_public()

    # A 3-day absence of Constance across her services, in one form.
    constance = fam.children[0]
    page.goto(dashboard)
    nav.get_by_role("link", name="Absences", exact=True).click()
    page.get_by_label(constance.first_name, exact=True).check()
    page.get_by_label("Premier jour d'absence").fill(fam.absence_days[0].isoformat())
    page.get_by_label("Dernier jour d'absence").fill(fam.absence_days[-1].isoformat())
    page.get_by_role("button", name="Voir les jours concernés").click()
    page.wait_for_load_state()
    assert page.locator(".absence-plan li").count() == 6  # 3 days × 2 services
    visit.check("absence-plan")
    page.get_by_label("Maladie", exact=True).check()
    page.get_by_role("button", name="Déclarer l'absence").click()
    page.wait_for_load_state()
    assert page.get_by_text("6 jour(s) d'absence signalé(s)", exact=False).is_visible()
    visit.check("absence-declaree")
    with tenant_context(fam.commune):
        assert Absence.objects.filter(declaration__child=constance).count() == 6
    connection.set_schema_to_public()

    # Two invoices paid in ONE payment with the demo provider.
    page.goto(dashboard)
    nav.get_by_role("link", name="Factures", exact=True).click()
    page.wait_for_load_state()
    pay_all = page.get_by_role("button", name="Tout payer", exact=False)
    assert pay_all.is_visible()
    visit.check("factures")
    pay_all.click()
    page.wait_for_url("**/castres/billing/paiement/demo/**")
    page.get_by_role("button", name="Payer", exact=True).click()
    page.wait_for_url("**/castres/billing/paiement/retour/**")
    assert page.locator("#etat-paiement").get_attribute("data-state") == "paid"
    visit.check("paiement-recu")
    page.get_by_role("navigation", name="Mon espace").get_by_role(
        "link", name="Factures", exact=True
    ).click()
    page.wait_for_load_state()
    statuses = page.locator("tr[data-invoice] .status").all_inner_texts()
    assert statuses == ["payée", "payée"], statuses
    visit.check("factures-payees")
    with tenant_context(fam.commune):
        assert set(
            Invoice.objects.filter(household=fam.household).values_list("status", flat=True)
        ) == {"paid"}
    connection.set_schema_to_public()
