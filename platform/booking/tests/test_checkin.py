"""The day list at the door (issue #16): safety columns, health columns only for
the health area with one access-journal row per display, marks replayed from
the offline queue counted once, rows "still to check" first, the printed PDF
with the same columns, constant query counts. Real PostgreSQL, HTTP."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from families.testing import login, make_family, make_staff

pytestmark = pytest.mark.django_db

# The list's day is computed from today (no frozen clock here: nothing depends on the hour).
DAY = timezone.localdate() + timedelta(days=1)


def _book(children, day=DAY):
    from booking.models import Activity, Booking, DaySlot
    from core.models import Service

    service = Service.objects.filter(module="periscolaire").order_by("code").first()
    activity, _ = Activity.objects.get_or_create(
        service=service, name="Cantine de test", defaults={"default_capacity": 50}
    )
    slot, _ = DaySlot.objects.get_or_create(activity=activity, day=day, defaults={"capacity": 50})
    for child in children:
        Booking.objects.create(slot=slot, child=child)
        slot.booked += 1
    slot.save(update_fields=["booked"])
    return activity


@pytest.fixture
def door(castres):
    from families.models import HealthSheet

    fam = make_family(castres, key="porte", last_name="Porte", children=2)
    other = make_family(castres, key="seuil", last_name="Seuil", children=1)
    with tenant_context(castres):
        HealthSheet.objects.filter(child=fam.children[0]).update(
            pai=True, pai_details="Trousse d'urgence à l'accueil", diet="medical"
        )
        activity = _book([*fam.children, *other.children])
    health = make_staff(castres, username="porte-sante", areas=["periscolaire", "sante"])
    plain = make_staff(castres, username="porte-simple", areas=["periscolaire"])
    fam.other, fam.activity = other, activity
    fam.health_client, fam.plain_client = Client(), Client()
    login(fam.health_client, castres, health)
    login(fam.plain_client, castres, plain)
    fam.url = f"/castres/periscolaire/gestion/jour/?activite={activity.pk}&jour={DAY.isoformat()}"
    return fam


def _journal(castres):
    from audit.models import AuditEntry

    with tenant_context(castres):
        return list(AuditEntry.objects.filter(action="health.view").order_by("id"))


def test_health_staff_see_allergies_and_pai_and_each_display_is_journaled(door, castres):
    page = door.health_client.get(door.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "arachide (Porte)" in html and "Trousse d&#x27;urgence à l&#x27;accueil" in html
    assert "régime médical" in html
    # Safety columns for everyone: pick-up, may leave alone, emergency phone.
    assert "Dominique Grand-parent Porte (grand-mère)" in html and "06 98 76 54 32" in html
    entries = _journal(castres)
    assert {e.household_id for e in entries} == {door.household.pk, door.other.household.pk}
    assert all(e.detail["day"] == DAY.isoformat() for e in entries)
    door.health_client.get(door.url)
    assert len(_journal(castres)) == 2 * len(entries)  # each display writes its rows


def test_staff_without_the_health_area_see_no_health_column(door, castres):
    page = door.plain_client.get(door.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "arachide" not in html and "Trousse" not in html and "régime médical" not in html
    assert "réservées aux agents habilités" in html
    assert "06 98 76 54 32" in html  # what everyone at the door needs stays
    assert _journal(castres) == []
    pdf = door.plain_client.get(door.url.replace("/jour/?", "/jour/liste.pdf?"))
    assert b"arachide" not in _pdf_text(pdf.content).encode()
    assert _journal(castres) == []


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_printed_list_carries_the_same_safety_columns(door, castres):
    pdf = door.health_client.get(door.url.replace("/jour/?", "/jour/liste.pdf?"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    for expected in (
        "Allergies",
        "PAI",
        "arachide (Porte)",
        "Trousse",
        "Part seul",
        "Tél. urgence",
    ):
        assert expected in text
    assert {e.detail["where"] for e in _journal(castres)} == {"liste imprimée"}


def _mark(client, booking, attendance, mark_id, marked_at=None):
    data = {"attendance": attendance, "mark_id": str(mark_id)}
    if marked_at:
        data["marked_at"] = marked_at.isoformat()
    return client.post(
        f"/castres/periscolaire/gestion/pointage/{booking.pk}/",
        data,
        HTTP_ACCEPT="application/json",
    )


def test_marks_replayed_from_the_offline_queue_count_once(door, castres):
    from booking.models import AttendanceMark, Booking

    with tenant_context(castres):
        booking = Booking.objects.get(child=door.children[0])
    connection.set_schema_to_public()
    first, second = uuid.uuid4(), uuid.uuid4()
    now = timezone.now()
    answer = _mark(door.plain_client, booking, "present", first, now - timedelta(minutes=3))
    assert answer.json() == {"attendance": "present", "label": "présent", "recorded": True}
    assert (
        _mark(door.plain_client, booking, "absent", second, now - timedelta(minutes=1)).json()[
            "attendance"
        ]
        == "absent"
    )
    # The queue is sent again (the tablet never got the answers): nothing changes.
    for mark_id, attendance in ((first, "present"), (second, "absent")):
        replay = _mark(door.plain_client, booking, attendance, mark_id)
        assert replay.json()["recorded"] is False
    # A mark tapped earlier but arriving late never overwrites a newer one.
    late = _mark(door.plain_client, booking, "present", uuid.uuid4(), now - timedelta(minutes=2))
    assert late.json() == {"attendance": "absent", "label": "absent", "recorded": True}
    with tenant_context(castres):
        booking.refresh_from_db()
        assert booking.attendance == "absent"
        assert AttendanceMark.objects.filter(booking=booking).count() == 3
    bad = _mark(door.plain_client, booking, "peut-être", uuid.uuid4())
    assert bad.status_code == 422 and bad.json()["detail"] == "Pointage inconnu."


def test_without_javascript_a_mark_posts_and_comes_back_to_the_list(door, castres):
    from booking.models import Booking

    with tenant_context(castres):
        booking = Booking.objects.get(child=door.children[1])
    mark_id = uuid.uuid4()
    for _ in range(2):  # the same rendered form sent twice
        done = door.plain_client.post(
            f"/castres/periscolaire/gestion/pointage/{booking.pk}/",
            {"attendance": "present", "mark_id": str(mark_id)},
        )
        assert done.status_code == 302 and f"#pointage-{booking.pk}" in done["Location"]
    page = door.plain_client.get(door.url).content.decode()
    # Running count and rows still to check first.
    assert '<strong data-checkin="remaining">2</strong>' in page
    assert page.index("Enfant1") < page.index("Enfant2")  # Enfant2 is checked: last
    assert page.index("Seuil") < page.index("Enfant2")


def test_the_list_costs_the_same_queries_whatever_its_size(door, castres):
    def count():
        with tenant_context(castres):
            connection.set_schema_to_public()
        with CaptureQueriesContext(connection) as queries:
            assert door.health_client.get(door.url).status_code == 200
        return len(queries)

    small = count()
    bigger = make_family(castres, key="foule", last_name="Foule", children=6)
    with tenant_context(castres):
        _book(bigger.children)
    assert count() == small
