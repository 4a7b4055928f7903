"""Absences over a period (booking.absence_periods): one declaration for a child
across every service booked in the days, one file, the billing consequence per
day and service from the town's rules, staff decisions whole or day by day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from booking.absence_periods import (
    ABSENCE,
    CANCEL,
    consequence_text,
    decide_declaration,
    declare_absence,
    period_problem,
    plan_absence,
)
from booking.absences import decide_absence
from booking.models import Absence, Activity, DaySlot, Registration
from booking.services import BookingRefused, book_days
from booking.tests.conftest import FRI_19, MON_15, THU_18, TUE_16, make_staff
from booking.tests.helpers import paris
from core.day_prices import DayPrice
from documents.testing import make_pdf

pytestmark = pytest.mark.django_db

# On Sunday 14 March at 20:00, 15-16 March are past Castres' 7-day limit;
# 18-19 March too (7 days before = 11/12 March); nothing is cancellable.
SUNDAY_EVENING = paris(2027, 3, 14, 20)
BOOKED_ON = paris(2027, 3, 1, 9)  # two weeks ahead: within every booking window


def test_period_problems():
    assert period_problem(None, MON_15)
    assert "suivre" in period_problem(TUE_16, MON_15)
    assert "62 jours" in period_problem(date(2027, 1, 1), date(2027, 6, 1))
    assert period_problem(MON_15, MON_15) is None


def test_consequence_texts():
    p = DayPrice
    assert "sans frais" in consequence_text(what=CANCEL)
    assert (
        consequence_text(what=ABSENCE, unjustified=p(Decimal("2.10"), ""), justified=p(0, ""))
        == "non facturé si le service accepte le justificatif ; sinon facturé 2,10\u00a0€"
    )
    assert "jour de carence" in consequence_text(
        what=ABSENCE, unjustified=p(Decimal("2.10"), ""), justified=p(Decimal("1.05"), "")
    )
    assert consequence_text(
        what=ABSENCE, unjustified=p(Decimal("2.10"), ""), justified=p(Decimal("2.10"), "carence")
    ).endswith("même justifié (jour de carence)")
    assert "même justifié" in consequence_text(
        what=ABSENCE, unjustified=p(Decimal("2.10"), ""), justified=p(Decimal("2.10"), "")
    )
    assert consequence_text(what=ABSENCE) == "absence signalée au service"


@pytest.fixture
def booked(family, in_town):
    """Léa booked at the restaurant and evening care on 15, 16, 18 and 19 March."""
    from core.models import Service

    with in_town(family.commune):
        lea = family.children[0]
        for code in ("restauration-scolaire", "accueil-soir"):
            service = Service.objects.get(code=code)
            activity = Activity.objects.get(code=f"{code}--ecole-centre")
            for d in (MON_15, TUE_16, THU_18, FRI_19):
                DaySlot.objects.create(activity=activity, day=d, capacity=10)
            Registration.objects.create(
                child=lea, service=service, site=activity.site, school_year=2026, status="accepted"
            )
            book_days(
                child=lea,
                activity=activity,
                days=[MON_15, TUE_16, THU_18, FRI_19],
                now=BOOKED_ON,  # a fixed instant: never the real today
            )
        family.household.quotient_familial = 480
        family.household.city = family.commune.name
        family.household.save()
        yield family


def test_plan_lists_every_service_with_what_billing_will_do(booked, in_town):
    lea = booked.children[0]
    with in_town(booked.commune):
        plan = plan_absence(
            child=lea, first=MON_15, last=THU_18, reason="illness", now=SUNDAY_EVENING
        )
    assert [(d.day, d.service_name, d.what) for d in plan.days] == [
        (MON_15, "Restauration scolaire", ABSENCE),
        (MON_15, "Accueil périscolaire du soir", ABSENCE),
        (TUE_16, "Restauration scolaire", ABSENCE),
        (TUE_16, "Accueil périscolaire du soir", ABSENCE),
        (THU_18, "Restauration scolaire", ABSENCE),
        (THU_18, "Accueil périscolaire du soir", ABSENCE),
    ]
    # Castres: 1 day of carence for an illness, then free when justified.
    first, later = plan.days[0].consequence, plan.days[2].consequence
    assert "jour de carence" in first
    assert later.startswith("non facturé si le service accepte le justificatif")


def test_one_declaration_one_file_for_three_days_and_two_services(
    booked, in_town, django_capture_on_commit_callbacks
):
    lea = booked.children[0]
    with in_town(booked.commune), django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(BookingRefused, match="motif"):
            declare_absence(child=lea, first=MON_15, last=THU_18, reason="", now=SUNDAY_EVENING)
        done = declare_absence(
            child=lea,
            first=MON_15,
            last=THU_18,
            reason="illness",
            comment="Varicelle",
            upload=SimpleUploadedFile("certificat.pdf", make_pdf(), content_type="application/pdf"),
            user=booked.user,
            now=SUNDAY_EVENING,
        )
        assert len(done.absences) == 6 and not done.cancelled
        files = {a.justification.name for a in Absence.objects.filter(declaration=done.declaration)}
        assert len(files) == 1 and files != {""}  # one stored file for the six days
        assert not Absence.objects.filter(booking__slot__day=FRI_19).exists()
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "du lundi 15 mars 2027 au jeudi 18 mars 2027" in body
    assert "Accueil périscolaire du soir" in body and "jour de carence" in body


def test_cancellable_days_are_cancelled_free_and_too_late_refuses_all(booked, in_town):
    lea = booked.children[0]
    with in_town(booked.commune):
        # On 10 March at noon, 15-16 March are past the limit, 18-19 March are not.
        done = declare_absence(
            child=lea, first=TUE_16, last=FRI_19, reason="family", now=paris(2027, 3, 10, 12)
        )
        assert {(a.booking.slot.day) for a in done.absences} == {TUE_16}
        assert {b.slot.day for b in done.cancelled} == {THU_18, FRI_19}
        assert (
            DaySlot.objects.get(activity__code="accueil-soir--ecole-centre", day=FRI_19).booked == 0
        )
        # Too late to report 15 March on 30 March: nothing at all is written.
        before = Absence.objects.count()
        with pytest.raises(BookingRefused, match="trop tard"):
            declare_absence(
                child=lea, first=MON_15, last=MON_15, reason="illness", now=paris(2027, 3, 30, 9)
            )
        assert Absence.objects.count() == before
        with pytest.raises(BookingRefused, match="aucun jour réservé"):
            declare_absence(
                child=lea, first=date(2027, 4, 1), last=date(2027, 4, 2), reason="illness"
            )


def test_staff_decide_whole_declaration_or_day_by_day(booked, in_town):
    lea = booked.children[0]
    with in_town(booked.commune):
        done = declare_absence(
            child=lea, first=MON_15, last=TUE_16, reason="illness", now=SUNDAY_EVENING
        )
        staff = make_staff()
        first = done.absences[0]
        decide_absence(absence=first, decision="unjustified", actor=staff)
        decided = decide_declaration(
            declaration=done.declaration, decision="justified", actor=staff
        )
        assert len(decided) == 3
        assert sorted(
            Absence.objects.filter(declaration=done.declaration).values_list("decision", flat=True)
        ) == ["justified", "justified", "justified", "unjustified"]
        with pytest.raises(BookingRefused, match="déjà été examinée"):
            decide_declaration(declaration=done.declaration, decision="justified", actor=staff)


# --- documents deposited once serve everywhere (#23): absences --------------------------------


def _stored(household, *, kind="certificat_medical", valid_until=None, title="Certificat"):
    from documents.models import Document

    doc = Document(
        household=household,
        kind=kind,
        title=title,
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        valid_until=valid_until,
    )
    doc.file.save("certificat.pdf", SimpleUploadedFile("c.pdf", make_pdf()), save=False)
    doc.save()
    return doc


def test_an_absence_uses_a_stored_document_without_a_new_upload(booked, in_town):
    lea = booked.children[0]
    with in_town(booked.commune):
        doc = _stored(booked.household)
        done = declare_absence(
            child=lea,
            first=MON_15,
            last=TUE_16,
            reason="illness",
            stored_document=str(doc.pk),
            user=booked.user,
            now=SUNDAY_EVENING,
        )
        absences = Absence.objects.filter(declaration=done.declaration)
        assert absences.count() == 4
        assert {a.justification.name for a in absences} == {doc.file.name}
        assert {a.justification_name for a in absences} == {"Certificat"}


@pytest.mark.parametrize("which", ["expired", "wrong_kind", "other_family", "not_a_number"])
def test_a_stored_document_that_does_not_fit_is_refused_in_french(booked, in_town, which):
    from families.models import Household

    lea = booked.children[0]
    with in_town(booked.commune):
        if which == "expired":
            doc = _stored(booked.household, valid_until=date(2027, 3, 1))
        elif which == "wrong_kind":
            doc = _stored(booked.household, kind="livret_famille")
        elif which == "other_family":
            doc = _stored(Household.objects.create(name="Famille Autre"))
        pk = "abc" if which == "not_a_number" else doc.pk
        with pytest.raises(BookingRefused, match="Justificatif"):
            declare_absence(
                child=lea,
                first=MON_15,
                last=TUE_16,
                reason="illness",
                stored_document=pk,
                user=booked.user,
                now=SUNDAY_EVENING,
            )
        assert not Absence.objects.filter(booking__child=lea).exists()


def test_a_new_justification_is_kept_with_the_documents_and_offered_next_time(booked, in_town):
    from booking.absences import absence_documents
    from documents.models import Document

    lea = booked.children[0]
    with in_town(booked.commune):
        declare_absence(
            child=lea,
            first=MON_15,
            last=MON_15,
            reason="illness",
            upload=SimpleUploadedFile("certificat.pdf", make_pdf(), content_type="application/pdf"),
            user=booked.user,
            now=SUNDAY_EVENING,
        )
        kept = Document.objects.get(household=booked.household)
        assert kept.kind == "certificat_medical" and "Léa" in kept.title
        assert Absence.objects.filter(booking__child=lea).first().justification.name == (
            kept.file.name
        )
        assert list(absence_documents(booked.household, today=date(2027, 3, 14))) == [kept]


def test_the_absence_form_offers_the_stored_documents(booked, in_town, client):
    import time_machine

    from booking.tests.conftest import login

    lea = booked.children[0]
    with time_machine.travel(SUNDAY_EVENING, tick=False):
        with in_town(booked.commune):
            doc = _stored(booked.household, title="Certificat du Dr Roux")
        login(client, booked.commune, booked.user)
        url = f"/castres/mon-espace/absences/?enfant={lea.pk}&du=2027-03-15&au=2027-03-16"
        page = client.get(url).content.decode()
        assert "Certificat du Dr Roux" in page and f'value="{doc.pk}"' in page
        response = client.post(
            "/castres/mon-espace/absences/",
            {
                "enfant": lea.pk,
                "du": "2027-03-15",
                "au": "2027-03-16",
                "reason": "illness",
                "justificatif_enregistre": doc.pk,
            },
        )
        assert response.status_code == 302
    with in_town(booked.commune):
        assert {a.justification.name for a in Absence.objects.filter(booking__child=lea)} == {
            doc.file.name
        }


def test_decided_consequences_for_staff():
    from booking.absence_periods import decided_consequence

    p = DayPrice
    unjustified, justified = p(Decimal("2.10"), ""), p(Decimal(0), "")
    assert decided_consequence(
        decision="justified", unjustified=unjustified, justified=justified
    ) == ("non facturé")
    assert (
        decided_consequence(decision="unjustified", unjustified=unjustified, justified=justified)
        == "facturé 2,10\u00a0€"
    )
    assert decided_consequence(
        decision="justified", unjustified=unjustified, justified=p(Decimal("2.10"), "carence")
    ).endswith("(jour de carence)")
    assert decided_consequence(decision="pending", unjustified=unjustified, justified=justified)
    assert "pas de facturation" in decided_consequence(decision="justified")


def test_staff_screen_of_the_period_declarations(
    booked, in_town, client, django_assert_max_num_queries
):
    """Staff see the families' declarations from the staff home's work queue
    and menu, each day with what billing does, and decide day by day or the
    whole declaration; an agent of another area sees none of them."""
    import html

    from booking.tests.conftest import login

    lea = booked.children[0]
    with in_town(booked.commune):
        done = declare_absence(
            child=lea, first=MON_15, last=TUE_16, reason="illness", now=SUNDAY_EVENING
        )
        agent = make_staff()
        other = make_staff("agent.alsh", areas=("alsh",))
        billing = make_staff("agent.factures", areas=("billing",))
    login(client, booked.commune, agent)
    home = html.unescape(client.get("/castres/gestion/").content.decode())
    assert "Absences déclarées par les familles à examiner" in home
    assert 'href="/castres/gestion/absences-declarees/"' in home  # counter and menu entry
    with django_assert_max_num_queries(30):
        page = html.unescape(client.get("/castres/gestion/absences-declarees/").content.decode())
    assert "Léa" in page and "du lundi 15 mars 2027 au mardi 16 mars 2027" in page
    assert "4 jours sur 4" in page and "Maladie" in page
    url = f"/castres/gestion/absences-declarees/{done.declaration.pk}/"
    page = html.unescape(client.get(url).content.decode())
    assert "Restauration scolaire" in page and "Accueil périscolaire du soir" in page
    assert "jour de carence" in page  # the first day of an illness, Castres' rule
    assert "Non facturé si le service accepte le justificatif" in page
    assert "illness" not in page and "pending" not in page  # no internal code
    # One day refused, then the rest accepted at once.
    first = done.absences[0]
    client.post(url, {"absence": first.pk, "decision": "unjustified", "comment": ""})
    response = client.post(url, {"decision": "justified", "comment": "Certificat reçu."})
    assert response.status_code == 302
    with in_town(booked.commune):
        assert sorted(
            Absence.objects.filter(declaration=done.declaration).values_list("decision", flat=True)
        ) == ["justified", "justified", "justified", "unjustified"]
    page = html.unescape(client.get(url).content.decode())
    assert "Facturé 2,10" in page and "Non facturé" in page and "Décider toute" not in page
    assert "Aucune déclaration d'absence à examiner" in html.unescape(
        client.get("/castres/gestion/absences-declarees/").content.decode()
    )
    # A bad decision value: a French message, nothing written.
    assert client.post(url, {"decision": "peut-être"}).status_code == 302
    # Another booking area: none of this declaration; billing only: no entry at all.
    client.logout()
    login(client, booked.commune, other)
    assert (
        "Léa" not in client.get("/castres/gestion/absences-declarees/?voir=toutes").content.decode()
    )
    assert client.get(url).status_code == 404
    client.logout()
    login(client, booked.commune, billing)
    assert "absences-declarees" not in client.get("/castres/gestion/").content.decode()
