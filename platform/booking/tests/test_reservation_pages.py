"""Family grid, staff lists and the reservation API over HTTP (Castres), with
frozen time; constant query counts; problem bodies in French; access scoping."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from booking.models import Absence, Booking, DaySlot, WaitingListEntry
from booking.services import book_days
from booking.tests.conftest import (
    DAYS,
    FRI_19,
    MON_15,
    MON_22,
    THU_18,
    login,
    make_staff,
    other_family,
    register,
)

NOW = datetime(2027, 3, 10, 11, 0, tzinfo=UTC)  # 12:00 in Paris; 15-16 March are past their limit
GRID = "/castres/periscolaire/reservations/?service=restauration-scolaire&semaine=2027-03-15"
API = "/castres/api/periscolaire/reservations/"


def _key(child, activity, day):
    return f"{child.pk}:{activity.pk}:{day.isoformat()}"


def _text(response):
    import html

    return html.unescape(response.content.decode())


@time_machine.travel(NOW, tick=False)
def test_grid_shows_every_child_and_why_each_day_is_locked(client, meals):
    login(client, meals.commune, meals.user)
    response = client.get(GRID)
    assert response.status_code == 200
    page = _text(response)
    assert "Réservations — Restauration scolaire" in page
    assert "délai dépassé depuis le lundi 8 mars 2027 à 23:59" in page
    assert "modifiable jusqu'au jeudi 11 mars 2027 à 23:59" in page
    lea, hugo = meals.children
    for child in (lea, hugo):
        assert f'value="{_key(child, meals.activity, THU_18)}"' in page  # editable
        assert f'name="shown" value="{_key(child, meals.activity, MON_15)}"' not in page  # locked
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    )


@time_machine.travel(NOW, tick=False)
def test_grid_submission_books_both_children_and_redirects(
    client, meals, in_town, django_capture_on_commit_callbacks
):
    from django.core import mail

    lea, hugo = meals.children
    login(client, meals.commune, meals.user)
    keys = [
        _key(lea, meals.activity, THU_18),
        _key(hugo, meals.activity, THU_18),
        _key(lea, meals.activity, FRI_19),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            GRID,
            {
                "service": "restauration-scolaire",
                "semaine": "2027-03-15",
                "shown": keys + [_key(hugo, meals.activity, FRI_19)],
                "cell": keys,
            },
        )
    assert response.status_code == 302
    with in_town(meals.commune):
        assert Booking.objects.filter(status="booked").count() == 3
    assert len(mail.outbox) == 1
    # Unticking a shown day cancels it; days not shown never change.
    response = client.post(
        GRID,
        {
            "service": "restauration-scolaire",
            "semaine": "2027-03-15",
            "shown": keys,
            "cell": keys[:2],
        },
    )
    with in_town(meals.commune):
        assert set(Booking.objects.filter(status="booked").values_list("slot__day", flat=True)) == {
            THU_18
        }


@time_machine.travel(NOW, tick=False)
def test_stale_page_past_the_deadline_is_refused_in_french_and_nothing_saved(
    client, meals, in_town
):
    lea, _ = meals.children
    login(client, meals.commune, meals.user)
    keys = [_key(lea, meals.activity, MON_15), _key(lea, meals.activity, THU_18)]
    response = client.post(
        GRID,
        {"service": "restauration-scolaire", "semaine": "2027-03-15", "shown": keys, "cell": keys},
    )
    assert response.status_code == 422
    page = _text(response)
    assert "Aucune modification n'a été enregistrée." in page
    assert "Léa, lundi 15 mars 2027 : délai dépassé depuis le lundi 8 mars 2027 à 23:59." in page
    with in_town(meals.commune):
        assert not Booking.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_castres_copy_changes_to_another_child(client, meals, in_town):
    lea, hugo = meals.children
    login(client, meals.commune, meals.user)
    key = _key(lea, meals.activity, MON_22)
    client.post(
        GRID,
        {
            "service": "restauration-scolaire",
            "semaine": "2027-03-15",
            "shown": [key],
            "cell": [key],
            "copie_de": str(lea.pk),
            "copie_vers": [str(hugo.pk)],
        },
    )
    with in_town(meals.commune):
        assert set(Booking.objects.values_list("child_id", "slot__day")) == {
            (lea.pk, MON_22),
            (hugo.pk, MON_22),
        }


@time_machine.travel(NOW, tick=False)
def test_pattern_books_mondays_and_thursdays_and_skips_locked_days(client, meals, in_town):
    lea, hugo = meals.children
    login(client, meals.commune, meals.user)
    response = client.post(
        GRID,
        {
            "pattern": "1",
            "service": "restauration-scolaire",
            "semaine": "2027-03-15",
            "enfants": [str(lea.pk), str(hugo.pk)],
            "jours": ["0", "3"],
            "du": "2027-03-15",
            "au": "2027-03-31",
            "action": "book",
        },
        follow=True,
    )
    page = _text(response)
    assert "Modifications enregistrées : 6 jour(s) réservé(s)" in page
    assert "Jours non modifiables, laissés tels quels" in page
    with in_town(meals.commune):
        assert set(Booking.objects.values_list("slot__day", flat=True)) == {
            THU_18,
            MON_22,
            date(2027, 3, 25),
        }


@time_machine.travel(NOW, tick=False)
def test_htmx_preview_is_a_dry_run(client, meals, in_town):
    lea, _ = meals.children
    login(client, meals.commune, meals.user)
    key = _key(lea, meals.activity, THU_18)
    response = client.post(
        "/castres/periscolaire/reservations/apercu/",
        {
            "service": "restauration-scolaire",
            "semaine": "2027-03-15",
            "shown": [key],
            "cell": [key],
        },
        HTTP_HX_REQUEST="true",
    )
    assert "Léa, jeudi 18 mars 2027 : à réserver" in _text(response)
    with in_town(meals.commune):
        assert not Booking.objects.exists()
        assert DaySlot.objects.get(activity=meals.activity, day=THU_18).booked == 0


def _grow(meals, in_town):
    """Three children, more days, bookings, a waiting entry and an absence."""
    from tests.factories import ChildFactory

    with in_town(meals.commune):
        third = ChildFactory(household=meals.household, first_name="Inès", guardians=[meals.adult])
        register([third], meals.service, meals.activity.site)
        for d in (date(2027, 3, 29), date(2027, 3, 30), date(2027, 4, 1), date(2027, 4, 2)):
            DaySlot.objects.create(activity=meals.activity, day=d, capacity=3)
        for child in [*meals.children, third]:
            book_days(child=child, activity=meals.activity, days=list(DAYS)[:3], staff=True)
        booking = Booking.objects.filter(child=third).first()
        Absence.objects.create(booking=booking, reason="illness")
        DaySlot.objects.filter(activity=meals.activity, day=MON_22).update(capacity=0)
        WaitingListEntry.objects.create(
            slot=DaySlot.objects.get(activity=meals.activity, day=MON_22), child=third
        )


@time_machine.travel(NOW, tick=False)
def test_family_grid_issues_a_constant_number_of_queries(client, meals, in_town):
    with in_town(meals.commune):
        Booking.objects.all().delete()
        DaySlot.objects.filter(activity=meals.activity).exclude(day__in=[THU_18]).delete()
        from booking.models import Registration

        Registration.objects.filter(child=meals.children[1]).delete()
    login(client, meals.commune, meals.user)
    client.get(GRID)  # warm caches (URL resolver, content types)
    with CaptureQueriesContext(connection) as small:
        assert client.get(GRID).status_code == 200
    with in_town(meals.commune):
        register([meals.children[1]], meals.service, meals.activity.site)
        for d in DAYS:
            DaySlot.objects.get_or_create(activity=meals.activity, day=d, defaults={"capacity": 3})
    _grow(meals, in_town)
    with CaptureQueriesContext(connection) as big:
        response = client.get(GRID)
    assert response.status_code == 200 and "Inès" in _text(response)
    assert "en liste d'attente" in _text(response) and "absence signalée" in _text(response)
    assert len(big) == len(small), [q["sql"] for q in big.captured_queries]


@time_machine.travel(NOW, tick=False)
def test_staff_day_list_pointage_csv_pdf_and_constant_queries(client, meals, in_town):
    with in_town(meals.commune):
        staff = make_staff()
        book_days(child=meals.children[0], activity=meals.activity, days=[MON_15], staff=True)
    login(client, meals.commune, staff)
    url = f"/castres/periscolaire/gestion/jour/?activite={meals.activity.pk}&jour=2027-03-15"
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(meals, in_town)
    with CaptureQueriesContext(connection) as big:
        page = _text(client.get(url))
    assert len(big) == len(small)
    assert "3 inscrits pour 3 places" in page and "Liste d'attente" not in page
    with in_town(meals.commune):
        booking = Booking.objects.filter(slot__day=MON_15).first()
    response = client.post(
        f"/castres/periscolaire/gestion/pointage/{booking.pk}/",
        {"attendance": "present", "mark_id": "0b6f3c1e-5a0e-4d7a-9a52-3f1c2d4e5f60"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200 and response.json()["attendance"] == "present"
    assert 'aria-pressed="true"' in _text(client.get(url))
    csv = client.get(url.replace("/jour/?", "/jour/liste.csv?"))
    assert csv["Content-Type"].startswith("text/csv")
    assert "Présent" in csv.content.decode("utf-8-sig") or "présent" in csv.content.decode(
        "utf-8-sig"
    )
    pdf = client.get(url.replace("/jour/?", "/jour/liste.pdf?"))
    assert pdf.content.startswith(b"%PDF")
    occupancy = _text(client.get("/castres/periscolaire/gestion/?du=2027-03-15&au=2027-03-26"))
    assert "3/3" in occupancy and "attente : 1" in occupancy


def test_family_cannot_reach_staff_pages_nor_another_familys_booking(client, meals, in_town):
    with in_town(meals.commune):
        others = other_family()
        register(others.children, meals.service, meals.activity.site)
        theirs = (
            book_days(child=others.children[0], activity=meals.activity, days=[MON_15], staff=True)
            .days[0]
            .booking
        )
    login(client, meals.commune, meals.user)
    assert client.get("/castres/periscolaire/gestion/").status_code == 403
    assert client.get(f"/castres/periscolaire/absences/signaler/{theirs.pk}/").status_code == 404
    assert client.post("/castres/periscolaire/reservations/liste-attente/999/").status_code == 404
    # An agent of another service area is refused too.
    with in_town(meals.commune):
        agent = make_staff("agent-pe", areas=["petite_enfance"])
    login(client, meals.commune, agent)
    assert client.get("/castres/periscolaire/gestion/").status_code == 403


@time_machine.travel(NOW, tick=False)
def test_api_refuses_past_deadline_with_a_french_problem_and_saves_nothing(client, meals, in_town):
    lea, _ = meals.children
    login(client, meals.commune, meals.user)
    body = {
        "service": "restauration-scolaire",
        "changes": [
            {"child": lea.pk, "activity": meals.activity.pk, "day": "2027-03-18", "action": "book"},
            {"child": lea.pk, "activity": meals.activity.pk, "day": "2027-03-16", "action": "book"},
        ],
    }
    response = client.post(API, json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Modification refusée"
    assert problem["detail"].startswith("Aucune modification n'a été enregistrée")
    assert problem["errors"] == [
        {
            "child": lea.pk,
            "activity": meals.activity.pk,
            "day": "2027-03-16",
            "action": "book",
            "kind": "rule",
            "detail": (
                "Léa, mardi 16 mars 2027 : délai dépassé depuis le mardi 9 mars 2027 à 23:59."
            ),
        }
    ]
    with in_town(meals.commune):
        assert not Booking.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_api_refuses_over_capacity_with_409_then_books(client, meals, in_town):
    lea, hugo = meals.children
    with in_town(meals.commune):
        DaySlot.objects.filter(activity=meals.activity, day=THU_18).update(capacity=1)
    login(client, meals.commune, meals.user)
    body = {
        "service": "restauration-scolaire",
        "changes": [
            {"child": c.pk, "activity": meals.activity.pk, "day": "2027-03-18", "action": "book"}
            for c in (lea, hugo)
        ],
    }
    response = client.post(API, json.dumps(body), content_type="application/json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["detail"] == (
        "Hugo, jeudi 18 mars 2027 : complet — liste d'attente possible."
    )
    with in_town(meals.commune):
        assert not Booking.objects.exists()
        assert DaySlot.objects.get(activity=meals.activity, day=THU_18).booked == 0
    body["waiting_list"] = True
    ok = client.post(API, json.dumps(body), content_type="application/json").json()
    assert [b["child"] for b in ok["booked"]] == [lea.pk]
    assert [w["child"] for w in ok["waiting_list"]] == [hugo.pk]
    grid = client.get(API + "?service=restauration-scolaire&du=2027-03-15&au=2027-03-19").json()
    thursday = next(d for d in grid["days"] if d["day"] == "2027-03-18")
    assert [c["booked"] for c in thursday["cells"]] == [True, False]


def test_api_bad_input_and_anonymous(client, meals):
    login(client, meals.commune, meals.user)
    bad = client.post(
        API, json.dumps({"changes": [{"child": "x"}]}), content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["errors"]
    client.logout()
    with tenant_context(meals.commune):
        pass
    anonymous = client.post(API, "{}", content_type="application/json")
    assert anonymous.status_code == 403
    assert anonymous["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/castres/alsh/reservations/", "/castres/petite-enfance/conges/"])
def test_module_pages_answer(client, meals, path):
    login(client, meals.commune, meals.user)
    assert client.get(path).status_code == 200


def test_catalogue_managers_publish_periods_and_closures_agents_only_read(client, meals, in_town):
    from booking.models import Closure, ReservationPeriod

    url = "/castres/periscolaire/gestion/catalogue/"
    with in_town(meals.commune):
        agent = make_staff()
        manager = make_staff("responsable", role="manager", areas=[])
        Booking.objects.create(
            slot=DaySlot.objects.get(activity=meals.activity, day=MON_15), child=meals.children[0]
        )
    login(client, meals.commune, agent)
    assert "Consultation seulement" in _text(client.get(url))
    assert client.post(url, {"what": "closure"}).status_code == 403
    login(client, meals.commune, manager)
    response = client.post(
        url,
        {
            "what": "period",
            "label": "Été 2027",
            "opens_at": "2027-05-01T08:30",
            "closes_at": "2027-06-15T23:59",
            "first_day": "2027-07-07",
            "last_day": "2027-08-31",
            "services": ["restauration-scolaire"],
        },
        follow=True,
    )
    assert "Période de réservation publiée." in _text(response)
    response = client.post(
        url,
        {
            "what": "closure",
            "label": "Pont de l'Ascension",
            "first_day": "2027-03-15",
            "last_day": "2027-03-19",
        },
        follow=True,
    )
    page = _text(response)
    assert "Fermeture enregistrée : 3 journée(s) ouverte(s) retirée(s)." in page
    assert "1 journée(s) ont déjà des réservations" in page
    response = client.post(
        url,
        {
            "what": "capacity",
            "activite": meals.activity.pk,
            "capacity": "42",
            "min_age_months": "36",
            "max_age_months": "",
        },
        follow=True,
    )
    assert "places par jour et âges modifiés" in _text(response)
    with in_town(meals.commune):
        period = ReservationPeriod.objects.get()
        assert period.opens_at.isoformat() == "2027-05-01T06:30:00+00:00"  # 08:30 in Paris
        assert [s.code for s in period.services.all()] == ["restauration-scolaire"]
        assert Closure.objects.get().label == "Pont de l'Ascension"
        assert set(
            DaySlot.objects.filter(activity=meals.activity).values_list("day", flat=True)
        ) == {MON_15, MON_22, date(2027, 3, 25)}
        meals.activity.refresh_from_db()
        assert (
            meals.activity.default_capacity,
            meals.activity.min_age_months,
            meals.activity.max_age_months,
        ) == (42, 36, None)


@time_machine.travel(NOW, tick=False)
def test_another_familys_ids_are_refused_everywhere(client, meals, in_town):
    """security.md: every object URL tried with another family's ids."""
    with in_town(meals.commune):
        others = other_family()
        register(others.children, meals.service, meals.activity.site)
        theirs = (
            book_days(child=others.children[0], activity=meals.activity, days=[MON_15], staff=True)
            .days[0]
            .booking
        )
        absence = Absence.objects.create(booking=theirs, reason="illness")
        DaySlot.objects.filter(activity=meals.activity, day=THU_18).update(capacity=0)
        entry = WaitingListEntry.objects.create(
            slot=DaySlot.objects.get(activity=meals.activity, day=THU_18), child=others.children[0]
        )
    login(client, meals.commune, meals.user)
    assert (
        client.post(
            f"/castres/periscolaire/reservations/liste-attente/{entry.pk}/", {"action": "retirer"}
        ).status_code
        == 404
    )
    assert (
        client.get(f"/castres/periscolaire/absences/{absence.pk}/justificatif/").status_code == 404
    )
    # Grid and API: their child is unknown here, nothing changes.
    key = _key(others.children[0], meals.activity, THU_18)
    client.post(
        GRID,
        {"service": "restauration-scolaire", "semaine": "2027-03-15", "shown": [key], "cell": []},
    )
    body = {
        "service": "restauration-scolaire",
        "changes": [
            {
                "child": others.children[0].pk,
                "activity": meals.activity.pk,
                "day": "2027-03-15",
                "action": "cancel",
            }
        ],
    }
    response = client.post(API, json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["kind"] == "unknown"
    with in_town(meals.commune):
        assert Booking.objects.get(pk=theirs.pk).status == "booked"
        assert WaitingListEntry.objects.get(pk=entry.pk).status == "waiting"
