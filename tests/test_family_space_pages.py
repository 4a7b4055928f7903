"""The family space over HTTP (Castres, frozen clock): the dashboard to act from
(with constant query counts), the family nav from the registry, the calendar
across services and children filling ONE basket confirmed once, absences over a
period, and a town switching each module off losing its entries, cards and
calendar lines. Here, not in booking's tests: it crosses every module (billing's
invoices on the dashboard), and booking imports no module."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.models import Absence, Activity, Booking, DaySlot, Registration
from booking.tests import conftest as booking_world
from booking.tests.conftest import MON_15, MON_22, THU_18, TUE_16, login
from tenants.testing import edit_town_config, module_switched_off

pytestmark = pytest.mark.django_db

# The booking tests' Castres world: their `meals` fixture, used here through `both`.
meals = booking_world.meals

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # Monday 1 March 2027: every day of DAYS is bookable
CAL = "/castres/mon-espace/reservations/?vue=mois&date=2027-03-15"


def _text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def both(meals, in_town):
    """The Martins at the restaurant and evening care (centre), QF 480, Castres."""
    with in_town(meals.commune):
        _service, evening = booking_world.evening_care(meals, capacity=10)
        meals.household.quotient_familial = 480
        meals.household.city = "Castres"
        meals.household.save()
        meals.evening = evening
        yield meals


def _invoice(household, *, n=1, total="69.70"):
    from django.utils import timezone

    from modules.billing.models import Invoice

    return Invoice.objects.create(
        number=f"F2027-{n:05d}",
        regie_code="enfance",
        regie_name="Régie enfance",
        household=household,
        payer_name="Claire Martin",
        year=2027,
        month=2 - (n - 1) % 2,
        invoice_date=date(2027, 3, 1) - timedelta(days=n),
        due_date=date(2027, 3, 23),
        payment_opens_at=timezone.now() - timedelta(days=1),
        payment_closes_at=timezone.now() + timedelta(days=20),
        total=Decimal(total),
    )


@time_machine.travel(NOW, tick=False)
def test_dashboard_shows_bookings_amount_due_and_open_request_with_one_tap_links(
    client, both, in_town
):
    from booking.services import book_days
    from demandes.models import Demande

    lea, hugo = both.children
    with in_town(both.commune):
        book_days(child=lea, activity=both.activity, days=[TUE_16])
        book_days(child=lea, activity=both.evening, days=[TUE_16])
        _invoice(both.household)
        Demande.objects.create(
            kind="health_sheet", subject="Fiche sanitaire de Léa", household=both.household
        )
    login(client, both.commune, both.user)
    page = _text(client.get("/castres/mon-espace/"))
    assert "mardi 16 mars" in page.lower()
    assert "Restauration scolaire, Accueil périscolaire du soir" in page  # all services together
    assert "Reste à payer : " in page and "69,70" in page and "Payer 69,70" in page
    assert "Fiche sanitaire de Léa" in page
    assert "Réservez « " in page and " avant le " in page  # the next deadline that matters
    for label, url in (
        ("Réservations", "/castres/mon-espace/reservations/"),
        ("Absences", "/castres/mon-espace/absences/"),
        ("Factures", "/castres/billing/"),
        ("Documents", "/castres/mes-documents/"),
        ("Ma famille", "/castres/mon-espace/famille/"),
        ("Demandes", "/castres/mon-espace/demandes/"),
        ("Mon compte", "/castres/compte/"),
    ):
        assert f'<a href="{url}">{label}</a>' in page, label
    # The menu, exactly (issue 14): the registry's order 10..80.
    menu = page.split('<nav class="space-nav" aria-label="Mon espace">', 1)[1].split("</nav>")[0]
    assert re.findall(r"<a [^>]*>([^<]+)</a>", menu) == [
        "Tableau de bord",
        "Réservations",
        "Absences",
        "Factures",
        "Documents",
        "Ma famille",
        "Demandes",
        "Mon compte",
    ]
    assert 'href="/castres/coffre-fort/"' in page  # the vault, one tap away
    assert "Bientôt disponible" not in page


def _grow(both, in_town, children: int, months: int):
    """More children, more booked days over more months (the same household)."""
    from booking.services import book_days
    from families.models import Child

    with in_town(both.commune):
        kids = list(both.children)
        for i in range(children - len(kids)):
            kid = Child.objects.create(
                household=both.household,
                first_name=f"Enfant{i}",
                last_name="Martin",
                birth_date=date(2019, 1, 1 + i),
            )
            kid.guardians.add(both.adult)
            for activity in (both.activity, both.evening):
                Registration.objects.create(
                    child=kid,
                    service=activity.service,
                    site=activity.site,
                    school_year=2026,
                    status="accepted",
                )
            kids.append(kid)
        days = [date(2027, 3, 2) + timedelta(days=7 * w) for w in range(4 * months)]
        for d in days:
            for activity in (both.activity, both.evening):
                DaySlot.objects.get_or_create(activity=activity, day=d, defaults={"capacity": 50})
        for kid in kids:
            book_days(child=kid, activity=both.activity, days=days, staff=True)
            book_days(child=kid, activity=both.evening, days=days, staff=True)


@time_machine.travel(NOW, tick=False)
def test_dashboard_and_calendar_query_counts_do_not_grow_with_children_or_months(
    client, both, in_town
):
    with in_town(both.commune):
        _invoice(both.household)
    login(client, both.commune, both.user)
    counts = {}
    for size, (children, months) in enumerate(((2, 1), (5, 4))):
        _grow(both, in_town, children, months)
        for url in ("/castres/mon-espace/", CAL):
            client.get(url)  # warm caches (town settings)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts[(url, size)] = len(ctx.captured_queries)
    assert counts[("/castres/mon-espace/", 0)] == counts[("/castres/mon-espace/", 1)], counts
    assert counts[(CAL, 0)] == counts[(CAL, 1)], counts


@time_machine.travel(NOW, tick=False)
def test_calendar_basket_for_two_services_two_children_in_one_confirmation(
    client, both, in_town, django_capture_on_commit_callbacks
):
    lea, hugo = both.children
    login(client, both.commune, both.user)
    page = _text(client.get(CAL))
    assert "Restauration scolaire" in page and "Accueil périscolaire du soir" in page
    assert (
        "Modifiable jusqu'au lundi 8 mars 2027 à 23:59" in page
    )  # the why / until-when text of today's grid
    assert "pour votre famille" in page  # the price of the day
    keys = [
        f"{c.pk}:{a.pk}:{d.isoformat()}"
        for c in (lea, hugo)
        for a in (both.activity, both.evening)
        for d in (MON_15, TUE_16, THU_18, MON_22)
    ]
    response = client.post(
        "/castres/mon-espace/reservations/panier/",
        {"cell": keys, "shown": [f"{k}|0" for k in keys], "vue": "mois", "date": "2027-03-15"},
    )
    assert response.status_code == 302
    page = _text(client.get(CAL))
    assert "Confirmer 16 changements" in page
    assert "Total : + " in page
    with in_town(both.commune):
        from booking.basket import parse_keys, read_basket

        expected = read_basket(
            parse_keys([f"{k}:book" for k in keys]),
            children={c.pk: c for c in both.children},
            household=both.household,
        ).total
    from booking.templatetags.booking import prix

    assert f"Total : + {prix(expected)}" in page
    # The copy box of Léa never offers Léa.
    assert f'id="vers-{lea.pk}-{lea.pk}"' not in page and f'id="vers-{lea.pk}-{hugo.pk}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/castres/mon-espace/reservations/panier/confirmer/", follow=True)
    text = _text(done)
    assert "Restauration scolaire : 8 jour(s) réservé(s)" in text
    assert "Accueil périscolaire du soir : 8 jour(s) réservé(s)" in text
    assert "Votre panier est vide" in text
    with in_town(both.commune):
        assert Booking.objects.filter(status="booked").count() == 16


@time_machine.travel(NOW, tick=False)
def test_weekly_pattern_and_copy_to_the_other_child_fill_the_basket(client, both, in_town):
    lea, hugo = both.children
    login(client, both.commune, both.user)
    page = _text(client.get(CAL))
    assert 'name="du" value="2027-03-01"' in page  # ISO: the browser shows it
    response = client.post(
        "/castres/mon-espace/reservations/jours-fixes/?vue=mois&date=2027-03-15",
        {
            "services": ["restauration-scolaire"],
            "enfants": [lea.pk],
            "jours": [0, 3],  # Mondays and Thursdays
            "du": "2027-03-15",
            "au": "2027-03-25",
            "action": "book",
        },
        follow=True,
    )
    assert "4 jour(s) ajouté(s) au panier" in _text(response)  # 15, 18, 22 and 25 March
    response = client.post(
        "/castres/mon-espace/reservations/autres-enfants/",
        {"source": lea.pk, "vers": [hugo.pk]},
        follow=True,
    )
    text = _text(response)
    assert "4 jour(s) ajouté(s) au panier" in text
    assert "Confirmer 8 changements" in text


@time_machine.travel(
    datetime(2027, 3, 14, 19, 0, tzinfo=UTC), tick=False
)  # Sunday evening: 15-18 March can no longer be cancelled
def test_absence_over_three_days_in_one_form(client, both, in_town, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from booking.services import book_days
    from documents.testing import make_pdf
    from families.testing import use_tmp_media

    use_tmp_media(settings, tmp_path)
    lea = both.children[0]
    with in_town(both.commune):
        for activity in (both.activity, both.evening):
            book_days(child=lea, activity=activity, days=[MON_15, TUE_16, THU_18], staff=True)
    login(client, both.commune, both.user)
    url = f"/castres/mon-espace/absences/?enfant={lea.pk}&du=2027-03-15&au=2027-03-18"
    page = _text(client.get(url))
    assert page.count("Accueil périscolaire du soir</strong>") == 3
    assert "jour de carence" in page and "non facturé si le service accepte" in page
    assert "checked" not in page.split("Motif")[1].split("</fieldset>")[0]  # no default reason
    refused = client.post(url, {"enfant": lea.pk, "du": "2027-03-15", "au": "2027-03-18"})
    assert refused.status_code == 422 and "Choisissez le motif" in _text(refused)
    done = client.post(
        url,
        {
            "enfant": lea.pk,
            "du": "2027-03-15",
            "au": "2027-03-18",
            "reason": "illness",
            "justification": SimpleUploadedFile(
                "certificat.pdf", make_pdf(), content_type="application/pdf"
            ),
        },
        follow=True,
    )
    assert "6 jour(s) d'absence signalé(s)" in _text(done)
    with in_town(both.commune):
        assert Absence.objects.filter(declaration__child=lea).count() == 6


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("module", ["periscolaire", "alsh", "petite_enfance", "billing"])
def test_a_module_switched_off_shows_no_entry_card_or_calendar_line(client, both, in_town, module):
    from booking.services import book_days
    from core.contributions import family_calendar_entries, family_dashboard_cards, family_nav
    from core.models import Service

    lea = both.children[0]
    with in_town(both.commune):
        alsh = Activity.objects.get(code="alsh-mercredi--alsh-centre")
        wed = date(2027, 3, 17)
        DaySlot.objects.create(activity=alsh, day=wed, capacity=10)
        Registration.objects.create(
            child=lea, service=alsh.service, site=alsh.site, school_year=2026, status="accepted"
        )
        book_days(child=lea, activity=alsh, days=[wed], staff=True)
        book_days(child=lea, activity=both.activity, days=[TUE_16], staff=True)
        _invoice(both.household)
        codes = set(Service.objects.filter(module=module).values_list("name", flat=True))

    def seen(commune):
        from types import SimpleNamespace

        from django.test import RequestFactory

        request = RequestFactory().get("/")
        request.commune, request.user = commune, both.user
        with in_town(commune):
            entries = family_calendar_entries(
                request, both.household, date(2027, 3, 1), date(2027, 3, 31)
            )
            cards = family_dashboard_cards(request, both.household)
            nav = family_nav(request)
        return SimpleNamespace(
            services={e.service_label for e in entries},
            prices=[e.price for e in entries if e.price is not None],
            cards={c.template for c in cards},
            nav={e.label for e in nav},
        )

    before = seen(both.commune)
    # Switched off as the back-office does it (decisions/0006).
    off = type(both.commune).objects.get(pk=both.commune.pk)
    edit_town_config(off, module_switched_off(module))
    after = seen(off)
    if module == "billing":
        assert before.prices and not after.prices
        assert "billing/_dashboard_card.html" in before.cards - after.cards
        assert "Factures" in before.nav - after.nav
    else:
        assert not (after.services & codes)
    if module in ("periscolaire", "alsh"):
        assert before.services & codes  # it had lines before
    assert before.nav >= after.nav
