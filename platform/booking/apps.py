from django.apps import AppConfig

from booking.contributions import BookingCoreContributions


class BookingConfig(BookingCoreContributions, AppConfig):
    """The booking core shared by the periscolaire, alsh and petite_enfance modules:
    deadline rules (deadlines.py), opening calendars (calendar.py), catalogue
    (catalogue.py), registrations, the family grid, absences and staff lists."""

    name = "booking"
    verbose_name = "Réservations"

    def ready(self) -> None:
        # Registrations needing the service's validation are requests ("demandes"):
        # accepting one in the staff inbox validates the registration.
        from booking.registrations import register_demande_kind

        register_demande_kind()
