"""Separated parents, through HTTP: Élise Boulanger (QF 540) and Michel Lefort
(QF 1150) are Henri's parents in two households. Each books days on the
family grid, staff set who pays on Henri's record, the monthly run makes one
invoice per payer household at its own QF; each sees only their own invoice
and attestation; a custody pattern makes days follow the calendar."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal as D

import pytest
import time_machine
from django.test import Client

from booking.tests.conftest import login, make_staff

pytestmark = pytest.mark.django_db

BOOKING_TIME = "2027-03-10 11:00:00+00:00"  # UTC; the days below are open for booking
RUN_TIME = "2027-04-02 08:00:00+00:00"
GRID = "/castres/periscolaire/reservations/?service=accueil-soir&semaine={week}"
MON_15, THU_18, FRI_19 = date(2027, 3, 15), date(2027, 3, 18), date(2027, 3, 19)
MON_22, TUE_23, THU_25 = date(2027, 3, 22), date(2027, 3, 23), date(2027, 3, 25)
DAYS = (THU_18, FRI_19, MON_22, TUE_23, THU_25)


@pytest.fixture
def parents(castres, in_town, settings):
    """Henri (born 2022: under 6, so the evening care is on the tax attestation),
    his mother's household (home, QF 540) and his father's (QF 1150), both
    legal representatives with an account; Henri registered to the evening care."""
    from booking.models import Activity, DaySlot, Registration
    from core.models import Service
    from tests.factories import AdultFactory, ChildFactory, HouseholdFactory, UserFactory

    settings.LOGIN_URL = "/connexion/"
    with in_town(castres):
        elise_user = UserFactory(username="elise", email="elise@example.org")
        michel_user = UserFactory(username="michel", email="michel@example.org")
        home = HouseholdFactory(name="Famille Boulanger", quotient_familial=540, city="Castres")
        other = HouseholdFactory(name="Famille Lefort", quotient_familial=1150, city="Castres")
        elise = AdultFactory(
            household=home, user=elise_user, first_name="Élise", last_name="Boulanger"
        )
        michel = AdultFactory(
            household=other, user=michel_user, first_name="Michel", last_name="Lefort"
        )
        henri = ChildFactory(
            household=home,
            first_name="Henri",
            last_name="Lefort",
            birth_date=date(2022, 6, 1),
            guardians=[elise, michel],
        )
        service = Service.objects.get(code="accueil-soir")
        activity = Activity.objects.filter(service=service, is_active=True).order_by("id").first()
        for day in DAYS:
            DaySlot.objects.get_or_create(activity=activity, day=day, defaults={"capacity": 10})
        Registration.objects.create(
            child=henri,
            service=service,
            site=activity.site,
            school_year=2026,
            status=Registration.Status.ACCEPTED,
        )
        agent = make_staff("regie", areas=("billing",))
    ns = type("Parents", (), {})()
    ns.commune, ns.henri, ns.activity = castres, henri, activity
    ns.home, ns.other, ns.elise, ns.michel = home, other, elise, michel
    ns.users = (elise_user, michel_user, agent)
    _login_all(ns)
    return ns


def _login_all(p):
    """Sign everyone in under the current (maybe frozen) clock: sessions expire."""
    p.elise_client, p.michel_client, p.staff = Client(), Client(), Client()
    for client, user in zip((p.elise_client, p.michel_client, p.staff), p.users, strict=True):
        login(client, p.commune, user)


def _book(client, p, days):
    keys = [f"{p.henri.pk}:{p.activity.pk}:{d.isoformat()}" for d in days]
    week = min(days).isoformat()
    monday = date.fromordinal(min(days).toordinal() - min(days).weekday()).isoformat()
    response = client.post(
        GRID.format(week=monday),
        {"service": "accueil-soir", "semaine": monday, "shown": keys, "cell": keys},
    )
    assert response.status_code == 302, (week, html.unescape(response.content.decode()))
    assert "/connexion" not in response["Location"]


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _set_rule(p, data):
    response = p.staff.post(f"/castres/billing/gestion/payeurs/{p.henri.pk}/", data)
    assert response.status_code == 302, _text(response)


def _run(p):
    response = p.staff.post("/castres/billing/gestion/facturer/", {"month": "2027-03"})
    assert response.status_code == 302 and "/connexion" not in response["Location"]


def _invoice_links(client) -> set[str]:
    return set(
        re.findall(r"/castres/billing/factures/(\d+)/", _text(client.get("/castres/billing/")))
    )


def test_each_parent_pays_the_days_they_booked_at_their_own_qf(parents, in_town):
    from modules.billing.models import Invoice

    p = parents
    # Staff set the rule on Henri's record, from the billing staff pages.
    page = _text(p.staff.get("/castres/billing/gestion/payeurs/"))
    assert "Henri Lefort" in page and "rattaché paie toutes" in page
    _set_rule(p, {"kind": "booker", "household_a": p.home.pk, "household_b": p.other.pk})
    assert "Le parent qui réserve" in _text(p.staff.get("/castres/billing/gestion/payeurs/"))

    with time_machine.travel(BOOKING_TIME, tick=False):
        _login_all(p)
        _book(p.michel_client, p, [THU_18, FRI_19])
        _book(p.elise_client, p, [MON_22, TUE_23, THU_25])
        # The shared-custody page shows who pays each coming day.
        page = _text(p.michel_client.get("/castres/billing/garde-partagee/"))
        assert "payé par : foyer de Michel Lefort" in page
        assert "payé par : foyer d'Élise Boulanger" in page or (
            "payé par : foyer de Élise Boulanger" in page
        )
    with time_machine.travel(RUN_TIME, tick=False):
        _login_all(p)
        _run(p)
        with in_town(p.commune):
            michels = Invoice.objects.get(household=p.other, year=2027, month=3)
            elises = Invoice.objects.get(household=p.home, year=2027, month=3)
            assert [line.day for line in michels.lines.all()] == [THU_18, FRI_19]
            assert [line.day for line in elises.lines.all()] == [MON_22, TUE_23, THU_25]
            # Castres' evening care: 1,10 € up to QF 700, 1,60 € up to 1200.
            assert {line.amount for line in michels.lines.all()} == {D("1.60")}
            assert {line.amount for line in elises.lines.all()} == {D("1.10")}
            assert all("QF 1 150" in _plain(line.explanation) for line in michels.lines.all())
            assert all("QF 540" in _plain(line.explanation) for line in elises.lines.all())
            assert michels.payer_name == "Michel Lefort"
        # Each sees only their own invoice; the other's answers 404.
        assert _invoice_links(p.michel_client) == {str(michels.pk)}
        assert _invoice_links(p.elise_client) == {str(elises.pk)}
        assert p.michel_client.get(f"/castres/billing/factures/{elises.pk}/").status_code == 404
        assert p.elise_client.get(f"/castres/billing/factures/{michels.pk}/").status_code == 404
        detail = _text(p.michel_client.get(f"/castres/billing/factures/{michels.pk}/"))
        assert "1,60" in detail and "Henri" in detail

    # Michel pays at the desk; his attestation shows only what he paid.
    with in_town(p.commune):
        from modules.billing import selectors, services
        from modules.billing.models import Payment

        Payment.objects.create(
            invoice=michels,
            method=Payment.Method.DESK,
            provider="regie",
            transaction_id="test-cheque-1",
            amount=michels.total,
            paid_at="2027-04-03T10:00:00+02:00",
            receipt_number="TEST-1",
        )
        services._refresh_state(michels)
        attestation = selectors.fiscal_attestation(p.other, year=2027, today=date(2028, 1, 15))
        assert [c.amount for c in attestation.children] == [D("3.20")]
        assert attestation.payer_name == "Michel Lefort"
        assert (
            selectors.fiscal_attestation(p.home, year=2027, today=date(2028, 1, 15)).children == ()
        )
    with time_machine.travel("2028-01-15 10:00:00+00:00", tick=False):
        _login_all(p)
        assert "2027" in _text(p.michel_client.get("/castres/billing/attestations/"))
        assert "Attestation 2027" not in _text(p.elise_client.get("/castres/billing/attestations/"))


def test_with_alternate_weeks_days_follow_the_calendar_whoever_books(parents, in_town):
    from modules.billing.models import Invoice

    p = parents
    # Week of 15 March: Élise's; week of 22 March: Michel's.
    _set_rule(
        p,
        {
            "kind": "alternate_weeks",
            "household_a": p.home.pk,
            "household_b": p.other.pk,
            "reference_monday": MON_15.isoformat(),
        },
    )
    with time_machine.travel(BOOKING_TIME, tick=False):
        _login_all(p)
        _book(p.michel_client, p, [THU_18, MON_22])  # Michel books in both weeks
        _book(p.elise_client, p, [TUE_23])  # Élise books in Michel's week
    with time_machine.travel(RUN_TIME, tick=False):
        _login_all(p)
        _run(p)
    with in_town(p.commune):
        elises = Invoice.objects.get(household=p.home, year=2027, month=3)
        michels = Invoice.objects.get(household=p.other, year=2027, month=3)
        assert [line.day for line in elises.lines.all()] == [THU_18]
        assert [line.day for line in michels.lines.all()] == [MON_22, TUE_23]


def test_a_parent_proposes_a_rule_through_a_request_staff_accept_it(parents, in_town):
    from demandes.models import Demande
    from demandes.services import change_status
    from modules.billing.models import PayerRule

    p = parents
    page = _text(p.elise_client.get(f"/castres/billing/garde-partagee/{p.henri.pk}/"))
    assert "Qui paie les journées de Henri" in page
    bad = p.elise_client.post(
        f"/castres/billing/garde-partagee/{p.henri.pk}/",
        {"kind": "split", "household_a": p.home.pk, "household_b": p.other.pk, "percent_a": "150"},
    )
    body = _text(bad)
    assert bad.status_code == 400, body
    assert "entre 1 et 99" in body, body[body.find("<main") : body.find("</main>")]
    ok = p.elise_client.post(
        f"/castres/billing/garde-partagee/{p.henri.pk}/",
        {"kind": "split", "household_a": p.home.pk, "household_b": p.other.pk, "percent_a": "40"},
    )
    assert ok.status_code == 302
    with in_town(p.commune):
        demande = Demande.objects.get(kind="payer_rule")
        assert demande.household_id == p.home.pk and demande.child_id == p.henri.pk
        assert not PayerRule.objects.exists()
        from accounts.models import User

        change_status(demande=demande, action="accept", actor=User.objects.get(username="regie"))
        rule = PayerRule.objects.get(child=p.henri)
        assert (rule.kind, rule.percent_a, rule.household_b_id) == ("split", 40, p.other.pk)
    # Another family's child: 404.
    assert p.michel_client.get("/castres/billing/garde-partagee/999999/").status_code == 404


def test_the_staff_list_reads_a_constant_number_of_queries(parents, in_town):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import AdultFactory, ChildFactory, HouseholdFactory

    p = parents

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = p.staff.get("/castres/billing/gestion/payeurs/")
        assert response.status_code == 200
        return len(queries)

    small = count()
    with in_town(p.commune):
        for i in range(6):
            mother = AdultFactory(household=HouseholdFactory(name=f"Mère {i}"))
            father = AdultFactory(household=HouseholdFactory(name=f"Père {i}"))
            ChildFactory(household=mother.household, guardians=[mother, father])
    assert count() == small
