from django.apps import AppConfig


class BookingConfig(AppConfig):
    """The booking core shared by the periscolaire, alsh and petite_enfance modules:
    deadline rules (deadlines.py), opening calendars (calendar.py)."""

    name = "booking"
    verbose_name = "Réservations"
