from django.apps import AppConfig
from django.core.signals import request_finished
from django.db.models.signals import m2m_changed, post_delete, post_save

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
        self._watch_town_data()

    def _watch_town_data(self) -> None:
        """Periods, closures and services are cached per process
        (selectors.town_data): any change to them, through any path but a
        queryset update, invalidates every copy (services are rewritten from
        the town's configuration, whose new digest also changes the key)."""

        # Django's app loading: apps.py is imported before the models, so imported when called.
        from booking import selectors
        from booking.models import Closure, ReservationPeriod

        for model in (ReservationPeriod, Closure):
            uid = f"booking-town-data-{model.__name__}"
            post_save.connect(selectors.booking_data_changed, sender=model, dispatch_uid=uid)
            post_delete.connect(selectors.booking_data_changed, sender=model, dispatch_uid=uid)
            m2m_changed.connect(
                selectors.booking_data_changed, sender=model.services.through, dispatch_uid=uid
            )
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from core.models import Service

        uid = "booking-town-data-Service"
        post_save.connect(selectors.booking_data_changed, sender=Service, dispatch_uid=uid)
        post_delete.connect(selectors.booking_data_changed, sender=Service, dispatch_uid=uid)
        request_finished.connect(selectors.end_of_request, dispatch_uid="booking-town-data-end")
