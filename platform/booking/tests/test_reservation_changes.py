"""All-or-nothing reservation changes, waiting lists (promotion and offers),
acknowledgement e-mails — Castres' school restaurant (7 days, 23:59)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from booking.changes import ChangesRefused, apply_changes
from booking.models import Booking, ChangeSet, DaySlot, Registration, WaitingListEntry
from booking.rules import Action, Change
from booking.services import accept_offer, cancel_booking, decline_offer, expire_offers
from booking.tests.conftest import FRI_19, MON_15, MON_22, THU_18, TUE_16, other_family, register
from booking.tests.helpers import paris
from tenants.testing import edit_town_config, service_options

EARLY = paris(2027, 3, 1, 9)
LATE = paris(2027, 3, 10, 12)  # 15 and 16 March are past their limit, 18 March is not


def _apply(fam, changes, *, now=EARLY, user=None, waiting=False, children=None):
    kids = children or fam.children
    return apply_changes(
        children={c.pk: c for c in kids},
        service=fam.service,
        changes=changes,
        user=user or fam.user,
        household=kids[0].household,
        now=now,
        join_waiting_list=waiting,
    )


def _book(fam, child, *days):
    return [Change(child.pk, fam.activity.pk, d, Action.BOOK) for d in days]


def _slot(fam, day):
    return DaySlot.objects.get(activity=fam.activity, day=day)


def test_two_children_in_one_submission_with_one_receipt(
    meals, in_town, django_capture_on_commit_callbacks
):
    lea, hugo = meals.children
    with in_town(meals.commune), django_capture_on_commit_callbacks(execute=True):
        result = _apply(meals, _book(meals, lea, MON_15, THU_18) + _book(meals, hugo, MON_15))
        assert len(result.booked) == 3
        assert _slot(meals, MON_15).booked == 2
        receipt = ChangeSet.objects.get()
        assert receipt.household == meals.household
        assert (
            "Léa — lundi 15 mars 2027 — Restauration scolaire — Groupe scolaire du centre : réservé"
            in receipt.summary
        )
    assert [m.to for m in mail.outbox] == [["claire.martin@example.org"]]
    assert "Accusé de réception n°" in mail.outbox[0].body
    assert "Hugo — lundi 15 mars 2027" in mail.outbox[0].body


def test_one_late_day_refuses_the_whole_submission(
    meals, in_town, django_capture_on_commit_callbacks
):
    lea, _ = meals.children
    with in_town(meals.commune), django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ChangesRefused) as exc:
            _apply(meals, _book(meals, lea, MON_15, THU_18), now=LATE)
        assert [e.message for e in exc.value.errors] == [
            "Léa, lundi 15 mars 2027 : délai dépassé depuis le lundi 8 mars 2027 à 23:59."
        ]
        assert exc.value.detail.startswith("Aucune modification n'a été enregistrée")
        assert not Booking.objects.exists()
        assert _slot(meals, THU_18).booked == 0
        assert not ChangeSet.objects.exists()
    assert mail.outbox == []


def test_cancel_and_book_in_one_go(meals, in_town):
    lea, _ = meals.children
    with in_town(meals.commune):
        _apply(meals, _book(meals, lea, MON_22))
        result = _apply(
            meals,
            [Change(lea.pk, meals.activity.pk, MON_22, Action.CANCEL)] + _book(meals, lea, FRI_19),
        )
        assert [b.slot.day for b in result.cancelled] == [MON_22]
        assert [b.slot.day for b in result.booked] == [FRI_19]
        assert _slot(meals, MON_22).booked == 0
        # Asking for what is already so changes nothing.
        again = _apply(meals, _book(meals, lea, FRI_19))
        assert again.unchanged == 1 and not again.booked


def test_registration_is_required_for_that_school_year(meals, in_town):
    from core.models import Service

    lea, hugo = meals.children
    with in_town(meals.commune):
        Registration.objects.filter(child=hugo).update(status=Registration.Status.PENDING)
        with pytest.raises(ChangesRefused) as exc:
            _apply(meals, _book(meals, hugo, MON_15))
        assert exc.value.errors[0].message == (
            "Hugo, lundi 15 mars 2027 : inscription au service pas encore validée."
        )
        Registration.objects.filter(child=hugo).delete()
        with pytest.raises(ChangesRefused) as exc:
            _apply(meals, _book(meals, hugo, MON_15))
        assert exc.value.errors[0].message.endswith(
            "pas d'inscription à ce service pour l'année scolaire 2026-2027."
        )
        # Another service's activity cannot be booked through this one.
        other = Service.objects.get(code="accueil-soir")
        with pytest.raises(ChangesRefused):
            apply_changes(
                children={lea.pk: lea}, service=other, now=EARLY, changes=_book(meals, lea, MON_15)
            )


def test_too_old_child_is_refused(meals, in_town):
    from tests.factories import ChildFactory

    with in_town(meals.commune):
        teen = ChildFactory(
            household=meals.household,
            first_name="Zoé",
            birth_date=meals.children[0].birth_date.replace(year=2010),
            guardians=[meals.adult],
        )
        register([teen], meals.service, meals.activity.site)
        with pytest.raises(ChangesRefused) as exc:
            _apply(meals, _book(meals, teen, MON_15), children=[teen])
        assert (
            exc.value.errors[0].message
            == "Zoé, lundi 15 mars 2027 : accueil jusqu'à 12 ans inclus."
        )


def test_full_day_offers_the_waiting_list_and_nothing_partial(meals, in_town):
    lea, hugo = meals.children
    with in_town(meals.commune):
        others = other_family(children=2)
        register(others.children, meals.service, meals.activity.site)
        _apply(
            meals,
            _book(meals, others.children[0], MON_15) + _book(meals, others.children[1], MON_15),
            children=others.children,
            user=others.user,
        )
        _apply(meals, _book(meals, lea, MON_15))  # the third and last place
        with pytest.raises(ChangesRefused) as exc:
            _apply(meals, _book(meals, hugo, MON_15, THU_18))
        assert exc.value.only_full
        assert (
            exc.value.errors[0].message
            == "Hugo, lundi 15 mars 2027 : complet — liste d'attente possible."
        )
        assert not Booking.objects.filter(child=hugo).exists()  # not even 18 March
        result = _apply(meals, _book(meals, hugo, MON_15, THU_18), waiting=True)
        assert [b.slot.day for b in result.booked] == [THU_18]
        assert [w.slot.day for w in result.waiting] == [MON_15]
        assert _slot(meals, MON_15).booked == 3


def test_cancellation_promotes_the_first_waiting_child_and_mails_its_family(
    meals, in_town, django_capture_on_commit_callbacks
):
    lea, hugo = meals.children
    with in_town(meals.commune):
        others = other_family(children=2, email="durand@example.org")
        register(others.children, meals.service, meals.activity.site)
        _apply(meals, _book(meals, lea, MON_15) + _book(meals, hugo, MON_15))
        _apply(
            meals,
            _book(meals, others.children[0], MON_15),
            children=others.children,
            user=others.user,
        )
        _apply(
            meals,
            _book(meals, others.children[1], MON_15),
            children=others.children,
            user=others.user,
            waiting=True,
        )
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            result = _apply(meals, [Change(hugo.pk, meals.activity.pk, MON_15, Action.CANCEL)])
        assert [b.child_id for b in result.promoted] == [others.children[1].pk]
        assert _slot(meals, MON_15).booked == 3
        subjects = {m.subject: m.to for m in mail.outbox}
        assert subjects["Une place s'est libérée : réservation confirmée"] == ["durand@example.org"]
        assert "lundi 15 mars 2027" in next(
            m.body for m in mail.outbox if m.to == ["durand@example.org"]
        )


def test_time_limited_offer_then_next_family(meals, in_town, django_capture_on_commit_callbacks):
    lea, hugo = meals.children
    with in_town(meals.commune):
        edit_town_config(
            meals.commune,
            service_options(
                meals.service.code, **{"waiting_list": {"mode": "offer", "offer_hours": 24}}
            ),
        )
        meals.service.refresh_from_db()
        DaySlot.objects.filter(activity=meals.activity, day=MON_15).update(capacity=1)
        others = other_family(children=2)
        register(others.children, meals.service, meals.activity.site)
        _apply(meals, _book(meals, lea, MON_15))
        for child in others.children:
            _apply(
                meals,
                _book(meals, child, MON_15),
                children=others.children,
                user=others.user,
                waiting=True,
            )
        with django_capture_on_commit_callbacks(execute=True):
            result = cancel_booking(booking=Booking.objects.get(child=lea), now=EARLY)
        assert result.promoted is None and result.offered.child_id == others.children[0].pk
        assert result.offered.offer_expires_at == EARLY + timedelta(hours=24)
        assert _slot(meals, MON_15).booked == 1  # held for the offer
        assert any(m.subject == "Une place vous est proposée" for m in mail.outbox)
        # The first family lets it expire: the next child gets the offer.
        assert expire_offers(now=EARLY + timedelta(hours=25)) == 1
        second = WaitingListEntry.objects.get(child=others.children[1])
        assert second.status == WaitingListEntry.Status.OFFERED
        with pytest.raises(Exception, match="expiré"):
            accept_offer(entry=second, now=EARLY + timedelta(hours=60))
        booking = accept_offer(entry=second, now=EARLY + timedelta(hours=26))
        assert booking.from_waiting_list and _slot(meals, MON_15).booked == 1
        # Declining an offer with nobody left gives the place back.
        cancel_booking(booking=booking, now=EARLY)
        assert _slot(meals, MON_15).booked == 0
        with pytest.raises(Exception, match="plus valable"):
            decline_offer(entry=second, now=EARLY)


def test_staff_cancellation_after_the_deadline_is_marked_late(meals, in_town):
    lea, _ = meals.children
    with in_town(meals.commune):
        [booking] = _apply(meals, _book(meals, lea, TUE_16)).booked
        result = cancel_booking(booking=booking, now=LATE, staff=True)
        assert result.booking.cancelled_late is True
        [again] = _apply(meals, _book(meals, lea, FRI_19)).booked
        assert cancel_booking(booking=again, now=EARLY).booking.cancelled_late is False
