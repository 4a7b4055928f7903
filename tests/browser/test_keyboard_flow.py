"""Keyboard only, in real Chromium: a Castres family signs in, books two days
for its child in the calendar grid, and pays the invoice of those bookings
through the demo payment provider's page — with Tab, Shift+Tab, Enter and
Space, never a mouse click nor a filled field. At every element it acts on,
the focus must be visible (a real outline or box-shadow, not `none`); the
skip link must be the first stop of a page and move the focus to the content.

Between the booking and the payment, the month "passes": the booked days are
moved into last month (the same Booking rows, those the grid created) and the
town's real monthly invoicing run (`billing.services.run_month`) bills them.
The accessibility statement names this flow (content.accessibility).

Rows written in Castres' schema are removed afterwards (the live server only
flushes the public schema).
"""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from booking.french import PARIS

PASSWORD = "mot-de-passe-de-test-assez-long"
MAX_TABS = 200
INVISIBLE: set = set()  # every Tab stop passed on the way whose focus did not show


# --- keyboard helpers -----------------------------------------------------------


def focused(page) -> dict:
    """What has the focus: tag, name, value, id, text, role, type, checked."""
    return page.evaluate("""() => {
        const el = document.activeElement;
        if (!el || el === document.body) return {tag: 'body'};
        return {tag: el.tagName.toLowerCase(), name: el.getAttribute('name') || '',
                value: el.value === undefined ? '' : String(el.value), id: el.id || '',
                type: el.getAttribute('type') || '', checked: !!el.checked,
                text: (el.innerText || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 120),
                href: el.getAttribute('href') || ''};
    }""")


def focus_is_visible(page) -> bool:
    """The focused element draws a focus indicator: a non-`none` outline of
    some width, or a box-shadow."""
    return page.evaluate("""() => {
        const el = document.activeElement;
        if (!el || el === document.body) return false;
        const s = getComputedStyle(el);
        const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
        return outline || (s.boxShadow && s.boxShadow !== 'none');
    }""")


def tab_to(page, predicate, what: str, *, key: str = "Tab", limit: int = MAX_TABS) -> dict:
    """Press Tab (or Shift+Tab) until the focused element matches `predicate`
    (a function of focused(page)); fail with the path walked when it never does.
    Asserts that the element reached shows its focus."""
    walked = []
    for i in range(limit + 1):
        if i:  # the element already focused counts (e.g. the first one after the skip link)
            page.keyboard.press(key)
        el = focused(page)
        if el["tag"] != "body" and not focus_is_visible(page):
            INVISIBLE.add(f"{page.url.split('?')[0]} {el['tag']}:{el.get('text', '')[:40]}")
        if predicate(el):
            assert focus_is_visible(page), f"focus invisible on {what}: {el}"
            return el
        walked.append(f"{el['tag']}:{el.get('name') or el.get('text', '')[:30]}")
    pytest.fail(f"{what}: not reached with {limit} × {key}; focus went through {walked[-25:]}")


def link(text: str):
    return lambda el: el["tag"] == "a" and el["text"] == text


def link_starting(text: str):
    return lambda el: el["tag"] == "a" and el["text"].startswith(text)


def button(text: str):
    return lambda el: el["tag"] == "button" and el["text"].startswith(text)


def field(name: str):
    return lambda el: el["tag"] == "input" and el["name"] == name


def checkbox(value: str):
    return lambda el: el["tag"] == "input" and el["type"] == "checkbox" and el["value"] == value


def press(page, key: str, *, navigates: bool = False):
    """Press a key on the focused element (its focus already checked)."""
    assert focus_is_visible(page), f"focus invisible before {key}: {focused(page)}"
    if navigates:
        with page.expect_navigation():
            page.keyboard.press(key)
    else:
        page.keyboard.press(key)


def use_skip_link(page):
    """From the top of a freshly loaded page: the first Tab reaches the skip
    link, visible on screen; Enter moves the focus to the main content.

    A page opened at `#contenu` (a redirect keeps the fragment of the page the
    form was sent from) already starts the Tab order in the content: nothing
    to skip there."""
    if page.url.endswith("#contenu"):
        return
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    el = focused(page)
    assert el["tag"] == "a" and el["href"] == "#contenu", (
        f"first Tab stop is not the skip link: {el}"
    )
    assert focus_is_visible(page)
    box = page.evaluate("() => document.activeElement.getBoundingClientRect().toJSON()")
    assert box["x"] >= 0 and box["y"] >= 0 and box["width"] > 0, f"skip link off screen: {box}"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "contenu"
    page.keyboard.press("Tab")  # the Tab order goes on from the content, not the header
    inside = page.evaluate(
        "() => document.getElementById('contenu').contains(document.activeElement)"
    )
    assert inside, f"Tab after the skip link left the content: {focused(page)}"


# --- the family -------------------------------------------------------------------


def _today():
    from django.utils import timezone

    return timezone.now().astimezone(PARIS).date()


@pytest.fixture
def family(live_town, django_db_blocker, settings):
    """A Castres household (account, payer address, one child registered to the
    school restaurant at École du centre) with the days from 8 to 21 days ahead
    opened (the test books the first two the grid lets it change: school
    holidays and public holidays stay closed); the town's payments go to the
    demo provider."""
    from accounts.models import User
    from booking.models import Activity, ChangeSet, DaySlot, Registration, WaitingListEntry
    from booking.rules import school_year_of
    from core.models import Service
    from families.models import Adult, Child, Household
    from modules.billing.testing import purge_households
    from tenants.models import Commune
    from tenants.testing import edit_town_config

    settings.LOGIN_URL = "/connexion/"
    with django_db_blocker.unblock():
        castres = Commune.objects.get(slug="castres")
        with tenant_context(castres):
            previous_payment = copy.deepcopy(castres.config["payment"])
            edit_town_config(castres, {"payment": {"provider": "dummy"}})
            user = User.objects.create_user(
                username="clavier-castres",
                email="clavier@example.org",
                password=PASSWORD,
                role=User.Role.FAMILY,
                first_name="Alex",
                last_name="Clavier",
            )
            household = Household.objects.create(
                name="Famille Clavier", address_line="1 rue Haute", postcode="81100", city="Castres"
            )
            adult = Adult.objects.create(
                household=household,
                user=user,
                first_name="Alex",
                last_name="Clavier",
                email=user.email,
            )
            child = Child.objects.create(
                household=household,
                first_name="Camille",
                last_name="Clavier",
                birth_date=date(2018, 5, 14),
            )
            child.guardians.add(adult)
            service = Service.objects.get(code="restauration-scolaire")
            activity = Activity.objects.get(code="restauration-scolaire--ecole-centre")
            today = _today()
            days = [today + timedelta(days=n) for n in range(8, 22)]
            slots = [
                DaySlot.objects.get_or_create(activity=activity, day=d, defaults={"capacity": 10})[
                    0
                ]
                for d in days
            ]
            for year in sorted({school_year_of(d) for d in days}):
                Registration.objects.create(
                    child=child,
                    service=service,
                    site=activity.site,
                    school_year=year,
                    status="accepted",
                )
        connection.set_schema_to_public()
    fam = type(
        "Family",
        (),
        {
            "commune": castres,
            "user": user,
            "household": household,
            "child": child,
            "activity": activity,
            "slots": slots,
        },
    )
    yield fam
    with django_db_blocker.unblock():
        with tenant_context(castres):
            ChangeSet.objects.filter(household=household).delete()
            WaitingListEntry.objects.filter(child=child).delete()
            Registration.objects.filter(child=child).delete()
            purge_households([household.pk])
            DaySlot.objects.filter(pk__in=[s.pk for s in slots], bookings__isnull=True).delete()
            edit_town_config(castres, {"payment": previous_payment})
        connection.set_schema_to_public()


def _invoice_the_booked_days(fam, days):
    """The month passes: the family's booked days move into last month's
    school days, and the real monthly run invoices them."""
    from booking.models import Booking, DaySlot
    from modules.billing import services
    from modules.billing.models import Invoice
    from modules.billing.testing import billed_month, issue_day, school_days

    with tenant_context(fam.commune):
        booked = list(
            Booking.objects.filter(child=fam.child, status="booked")
            .select_related("slot")
            .order_by("slot__day")
        )
        assert [b.slot.day for b in booked] == days
        year, month = billed_month()
        taken = set(DaySlot.objects.filter(activity=fam.activity).values_list("day", flat=True))
        free = [d for d in school_days(year, month) if d not in taken][: len(booked)]
        for b, day in zip(booked, free, strict=True):
            DaySlot.objects.filter(pk=b.slot_id).update(day=day)
        services.run_month(
            commune=fam.commune, year=year, month=month, today=issue_day(), notify=False
        )
        invoice = Invoice.objects.get(household=fam.household, year=year, month=month)
        assert invoice.lines.count() == len(booked)
    connection.set_schema_to_public()
    return invoice


def test_a_family_books_and_pays_with_the_keyboard_only(page, live_town, family, django_db_blocker):
    INVISIBLE.clear()
    base = f"{live_town.url}/castres"

    # 1. The town's home page: skip link, then back up to "Se connecter" in the header.
    page.goto(f"{base}/")
    use_skip_link(page)
    tab_to(page, link("Se connecter"), "the sign-in link", key="Shift+Tab")
    press(page, "Enter", navigates=True)

    # 2. Sign in: identifier, password, Enter.
    use_skip_link(page)
    tab_to(page, field("identifier"), "the identifier field")
    page.keyboard.type(family.user.username)
    tab_to(page, field("password"), "the password field")
    page.keyboard.type(PASSWORD)
    press(page, "Enter", navigates=True)
    assert "/connexion/" not in page.url, page.content()[:2000]

    # 3. To the reservations grid, through the dashboard and the module's page.
    page.goto(f"{base}/periscolaire/")
    use_skip_link(page)
    tab_to(page, link("Gérer les réservations"), "the reservations link")
    press(page, "Enter", navigates=True)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Réservations — Restauration scolaire", heading

    # 4. Book two days: Tab to each day's box, Space; the preview updates; Enter on "Valider".
    # (Which days: the first two open ones the grid offers, read from the page.)
    keys = page.eval_on_selector_all(
        f'input[name=cell][value^="{family.child.pk}:{family.activity.pk}:"]',
        "boxes => boxes.filter(b => !b.disabled && !b.checked).map(b => b.value)",
    )[:2]
    assert len(keys) == 2, keys
    days = [date.fromisoformat(k.rsplit(":", 1)[1]) for k in keys]
    use_skip_link(page)
    for key, day in zip(keys, days, strict=True):
        el = tab_to(page, checkbox(key), f"the box of {day}")
        assert not el["checked"]
        press(page, "Space")
        assert focused(page)["checked"], f"Space did not tick {day}"
    page.locator("#apercu").get_by_text("à réserver").first.wait_for()  # htmx preview
    tab_to(page, button("Valider mes réservations"), "the submit button")
    press(page, "Enter", navigates=True)
    page.get_by_text("Modifications enregistrées : 2 jour(s) réservé(s)").wait_for()

    # 5. The month passes; the monthly run invoices these bookings.
    with django_db_blocker.unblock():
        invoice = _invoice_the_booked_days(family, days)

    # 6. Dashboard -> "Mes factures" -> the invoice -> pay by card.
    use_skip_link(page)
    tab_to(page, link("Mon tableau de bord"), "the dashboard link", key="Shift+Tab")
    press(page, "Enter", navigates=True)
    use_skip_link(page)
    tab_to(page, link("Mes factures"), "the invoices link")
    press(page, "Enter", navigates=True)
    row = page.locator(f"tr[data-invoice='{invoice.number}']")
    assert row.locator(".status").inner_text() == "à payer"
    use_skip_link(page)
    tab_to(page, link_starting(f"Facture {invoice.number}"), "the invoice's link")
    press(page, "Enter", navigates=True)
    tab_to(page, button("Payer"), "the pay-by-card button")
    press(page, "Enter", navigates=True)

    # 7. The provider's page (our demo stand-in): the amount, then "Payer" with Space.
    page.wait_for_url("**/castres/billing/paiement/demo/**")
    from modules.billing.pricing import euros

    assert page.locator("#montant").inner_text() == euros(invoice.total)
    use_skip_link(page)
    tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Payer", "the provider's Payer")
    press(page, "Space", navigates=True)
    page.wait_for_url("**/castres/billing/paiement/retour/**")
    assert page.locator("#etat-paiement").get_attribute("data-state") == "paid"

    # 8. Back to the list: the invoice is paid.
    use_skip_link(page)
    tab_to(page, link("Mes factures"), "the invoices link")
    press(page, "Enter", navigates=True)
    assert page.locator(f"tr[data-invoice='{invoice.number}'] .status").inner_text() == "payée"
    assert not INVISIBLE, f"Tab stops without a visible focus: {sorted(INVISIBLE)}"
