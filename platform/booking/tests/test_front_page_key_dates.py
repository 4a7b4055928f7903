"""The town's public home lists the booking core's key dates (contributed
through BookingConfig.town_key_dates: the kernel imports no booking code)."""

import html
from datetime import date

import pytest
from django.test import Client

from booking.front_page import registration_date


@pytest.mark.parametrize(
    "today, expected",
    [
        (date(2027, 2, 10), (date(2027, 5, 1), "Ouverture des inscriptions 2027-2028")),
        (date(2026, 10, 1), (date(2027, 5, 1), "Ouverture des inscriptions 2027-2028")),
        (date(2027, 6, 15), (None, "Inscriptions 2027-2028 ouvertes : inscrivez vos enfants")),
    ],
)
def test_registration_date(today, expected):
    key = registration_date(today)
    assert (key.day, key.label) == expected


@pytest.mark.django_db
def test_town_home_shows_the_booking_key_dates(castres):
    page = html.unescape(Client().get("/castres/").content.decode())
    assert "Dates à retenir" in page
    assert "inscriptions 20" in page.lower()
    assert ": réservation " in page  # a service's deadline rule, in French
