"""Issue #16's acceptance in real Chromium, as `agent.demo` in Castres: sign in
and land on the work queue (counters = database), today's canteen list on a
1024×768 tablet with Constance's allergy and PAI, four children checked in
(screenshot), a day booked by phone past the deadline with a reason (the family
gets the e-mail), a cash payment at the desk (the family's invoice shows it
paid) and the régie statement showing it. Screenshots under test-artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CANTEEN = "restauration-scolaire--ecole-centre"


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _wipe_town():
    from test_reservations_flows import _wipe

    from audit.models import AuditEntry
    from families.models import Household
    from modules.billing.maintenance import purge_household_billing
    from modules.billing.models import InvoicingRun
    from notifications.models import OutboxMessage

    purge_household_billing(list(Household.objects.values_list("pk", flat=True)))
    InvoicingRun.objects.all().delete()
    OutboxMessage.objects.all().delete()
    AuditEntry.objects.all().delete()
    _wipe()


@pytest.fixture
def castres_demo(live_town, django_db_blocker):
    """The demo of Castres (agent.demo, the demo families), four children
    booked at the canteen today, and an invoice of last month for Constance's
    household (committed rows: the live server reads them)."""
    from accounts import demo as accounts_demo
    from booking.models import Activity, Booking, DaySlot
    from families import demo as families_demo
    from families.models import Child, Household
    from modules.billing import services
    from modules.billing.testing import billed_month, book, issue_day, school_days
    from tenants.models import Commune

    with django_db_blocker.unblock():
        castres = Commune.objects.get(slug="castres")
        with tenant_context(castres):
            accounts_demo.load(castres)
            families_demo.load(castres)
            # The demo's child, told apart by the demo's marker from any other
            # household of the town.
            constance = Child.objects.get(
                health__allergies="arachide",
                health__pai=True,
                household__name__endswith=families_demo.MARKER,
            )
            others = list(
                Child.objects.filter(household__name__endswith="[démo]")
                .exclude(pk=constance.pk)
                .order_by("pk")[:3]
            )
            while len(others) < 3:  # the demo has four children today; keep the test honest
                others.append(
                    Child.objects.create(
                        household=constance.household,
                        first_name=f"Élève{len(others)}",
                        last_name=constance.last_name,
                        birth_date=constance.birth_date,
                    )
                )
            activity = Activity.objects.get(code=CANTEEN)
            today = timezone.localdate()
            slot, _ = DaySlot.objects.get_or_create(
                activity=activity, day=today, defaults={"capacity": 30}
            )
            DaySlot.objects.get_or_create(
                activity=activity, day=today + timedelta(days=1), defaults={"capacity": 30}
            )
            children = [constance, *others]
            for child in children:
                Booking.objects.create(slot=slot, child=child)
            slot.booked = len(children)
            slot.save(update_fields=["booked"])
            year, month = billed_month()
            book(constance, "restauration-scolaire", school_days(year, month, count=2))
            services.run_month(
                commune=castres, year=year, month=month, today=issue_day(), notify=False
            )
            household = Household.objects.get(pk=constance.household_id)
            invoice = household.invoices.get(year=year, month=month)
            family_user = household.adults.exclude(user=None).order_by("pk").first().user
        connection.set_schema_to_public()
    ctx = type("Demo", (), {})()
    ctx.commune, ctx.activity, ctx.children, ctx.constance = castres, activity, children, constance
    ctx.invoice, ctx.household, ctx.family_user, ctx.today = invoice, household, family_user, today
    yield ctx
    with django_db_blocker.unblock():
        with tenant_context(castres):
            _wipe_town()
        connection.set_schema_to_public()


def _sign_in_agent(page, url, commune):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.demo import AGENT_PASSWORD, AGENT_USERNAME
    from accounts.testing import totp_now

    page.goto(f"{url}/castres/compte/connexion/")
    page.get_by_label("Adresse e-mail ou nom d'utilisateur").fill(AGENT_USERNAME)
    page.get_by_label("Mot de passe", exact=True).fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    with tenant_context(commune):
        code = totp_now(TOTPDevice.objects.get(user__username=AGENT_USERNAME))
    connection.set_schema_to_public()
    page.get_by_label("Code à 6 chiffres").fill(code)
    page.get_by_role("button", name=re.compile("Valider|Vérifier|Continuer")).click()


def _db(commune, fn):
    with tenant_context(commune):
        value = fn()
    connection.set_schema_to_public()
    return value


def test_agent_demo_works_from_the_queue_to_the_regie(browser, live_town, axe, castres_demo):
    demo = castres_demo
    url = live_town.url
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1024, "height": 768}
    )
    context.set_default_timeout(20_000)
    page = context.new_page()

    # 1. Sign in: the work queue, whose counters match the database.
    _sign_in_agent(page, url, demo.commune)
    expect(page).to_have_url(f"{url}/castres/gestion/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Travail à faire")

    def waiting_requests():
        from accounts.models import User
        from demandes.models import Demande
        from demandes.selectors import demandes_for_staff

        agent = User.objects.get(username="agent.demo")
        return (
            demandes_for_staff(agent)
            .filter(status__in=[Demande.Status.SUBMITTED, Demande.Status.IN_REVIEW])
            .count()
        )

    requests = page.locator(".counter", has_text="Demandes à traiter")
    expect(requests.locator(".counter__count")).to_have_text(
        str(_db(demo.commune, waiting_requests))
    )
    to_check = page.locator(".counter", has_text="à pointer aujourd'hui").first
    expect(to_check).to_contain_text("(0 sur 4 déjà pointés)")
    expect(to_check.locator(".counter__count")).to_have_text("4")
    assert axe(page) == [], axe.format(axe(page))
    _shot(page, "staff-home-1024")

    # 2. Today's canteen list on the tablet: Constance's allergy and PAI.
    to_check.get_by_role("link").click()
    page.get_by_label("Activité").select_option(str(demo.activity.pk))
    page.get_by_role("button", name="Afficher").click()
    constance = demo.constance
    row = page.locator(".checkin-row", has_text=constance.first_name)
    expect(row).to_contain_text("arachide")
    expect(row).to_contain_text("Trousse d'urgence à l'accueil.")
    expect(page.locator('[data-checkin="remaining"]')).to_have_text("4")

    # 3. Four children checked in: the state is unmistakable, the count runs.
    for i, child in enumerate(demo.children):
        r = page.locator(".checkin-row", has_text=f"{child.first_name} {child.last_name.upper()}")
        state = "Absent" if i == 3 else "Présent"
        r.get_by_role("button", name=re.compile(f"^{state}")).click()
        expect(r).to_have_attribute("data-state", "absent" if i == 3 else "present")
        expect(r.locator('[data-checkin="state"]')).to_contain_text(state)
    expect(page.locator('[data-checkin="remaining"]')).to_have_text("0")
    expect(page.locator('[data-checkin="offline"]')).to_be_hidden()  # the queue is sent
    assert axe(page) == [], axe.format(axe(page))
    _shot(page, "staff-checkin-1024")

    def marks():
        from booking.models import AttendanceMark, Booking

        return (
            AttendanceMark.objects.filter(booking__slot__day=demo.today).count(),
            sorted(
                Booking.objects.filter(child__in=demo.children, slot__day=demo.today).values_list(
                    "attendance", flat=True
                )
            ),
        )

    assert _db(demo.commune, marks) == (4, ["absent", "present", "present", "present"])
    for size, name in (((390, 844), "phone"), ((1280, 800), "desktop")):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.reload()
        _shot(page, f"staff-checkin-{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    page.set_viewport_size({"width": 1024, "height": 768})

    # 4. A parent phones: a day booked past the deadline, with a reason; e-mail sent.
    page.get_by_role("link", name="Familles", exact=True).click()
    page.get_by_label(re.compile("Rechercher|Nom")).fill(constance.last_name)
    page.get_by_role("button", name=re.compile("Rechercher|Chercher")).click()
    page.get_by_role("link", name=re.compile(constance.last_name)).first.click()
    page.get_by_label("Enfant", exact=True).select_option(str(constance.pk))
    page.get_by_label("Activité", exact=True).select_option(str(demo.activity.pk))
    tomorrow = demo.today + timedelta(days=1)
    page.get_by_label("Jour", exact=True).fill(tomorrow.isoformat())
    page.get_by_label("Motif", exact=True).fill("Appel de la maman : reprise du travail")
    page.get_by_role("button", name="Réserver").click()
    expect(page.locator(".messages")).to_contain_text("La famille est prévenue par courriel")

    def mail_to_family():
        from notifications.models import OutboxMessage

        return [
            m.subject
            for m in OutboxMessage.objects.filter(subject__contains="par le service")
            if demo.family_user.email in m.to
        ]

    [subject] = _db(demo.commune, mail_to_family)
    assert "hors délai" in subject
    expect(page.locator("section[aria-labelledby=historique]")).to_contain_text("Appel de la maman")

    # 5. A cash payment at the desk for the invoice.
    page.get_by_text("Enregistrer un paiement au guichet").click()
    page.get_by_label("Espèces").check()
    balance = f"{demo.invoice.balance:.2f}".replace(".", ",")
    page.get_by_label(re.compile(f"Facture {demo.invoice.number}")).fill(balance)
    page.get_by_role("button", name="Enregistrer le paiement").click()
    expect(page.locator(".messages")).to_contain_text("enregistré : reçu R")
    _shot(page, "staff-family-record-1024")
    assert axe(page) == [], axe.format(axe(page))

    # The family's invoice page shows it paid, at once.
    family = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris").new_page()
    from families.demo import DEMO_PASSWORD

    family.goto(f"{url}/castres/compte/connexion/")
    family.get_by_label("Adresse e-mail ou nom d'utilisateur").fill(demo.family_user.username)
    family.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    family.get_by_role("button", name="Se connecter").click()
    family.goto(f"{url}/castres/billing/factures/{demo.invoice.pk}/")
    expect(family.locator("main")).to_contain_text("payée")
    expect(family.locator("main")).to_contain_text("espèces, à la régie")

    # 6. The régie statement shows that payment.
    page.get_by_role("link", name="État de régie").click()
    expect(page.locator("main")).to_contain_text(demo.invoice.payer_name)
    expect(page.locator("main")).to_contain_text("Espèces")
    _shot(page, "staff-regie-1024")
    context.close()
