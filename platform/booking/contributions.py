"""What the booking core and the service modules built on it contribute to the
family space (core.contributions). Imported by AppConfigs: no model import at
module level (the app registry is not ready then)."""

from django.urls import reverse


class BookingModuleContributions:
    """Mixed into a booking service module's AppConfig (periscolaire, alsh,
    petite_enfance): the calendar lines of ITS services, so a town that switches
    the module off loses them."""

    module_code = ""

    def family_calendar_entries(self, request, household, start, end):
        # Django's app loading: an apps.py imports this module before the models exist.
        from booking import family_space

        return family_space.calendar_entries(
            module_code=self.module_code,
            children=family_space.children_of(request),
            household=household,
            start=start,
            end=end,
        )


class BookingCoreContributions:
    """Mixed into the booking core's AppConfig: « Réservations » and « Absences »
    in the family nav, the next booked days and deadline, open registrations —
    only while the town has at least one booking module switched on."""

    def import_entities(self):
        """The registrations file of the family import (booking.imports)."""
        from booking.imports import RegistrationImporter  # models: not while apps load

        return [RegistrationImporter()]

    def periodic_jobs(self):
        """E-mail invitations to sign in before an opening (booking.invitations),
        checked every 15 minutes in every town, spread over 10 minutes."""
        # Django's app loading: an apps.py imports this module before the models exist.
        from core.contributions import PeriodicJob

        return [
            PeriodicJob(
                "booking-opening-invitations",
                "booking.tasks.invite_to_openings_for_town",
                15 * 60.0,
                window_seconds=600,
            )
        ]

    def town_key_dates(self, request, now, today, services):
        """The town's public home: reservation periods, registrations, deadlines."""
        from booking.front_page import key_dates  # models: not importable while apps load

        return key_dates(now, today, services)

    def family_nav(self, request):
        # Django's app loading: an apps.py imports this module before the models exist.
        from booking import family_space

        return family_space.family_nav(request)

    def family_dashboard_cards(self, request, household):
        # Django's app loading: an apps.py imports this module before the models exist.
        from booking import family_space

        return family_space.family_dashboard_cards(request, household)

    # Staff: the families' absence declarations over a period, which span the
    # booking modules (booking/views/declarations.py): an entry and a counter
    # for a staff member who works in at least one of the town's booking modules.
    def staff_nav(self, request):
        # Django's app loading: an apps.py imports this module before the models exist.
        from booking.views.declarations import staff_modules
        from core.contributions import NavEntry

        if not staff_modules(request):
            return []
        return [
            NavEntry(
                "Absences déclarées",
                "gestion-absences:declarations",
                order=25,
                match="gestion-absences:*",
            )
        ]

    def staff_counters(self, request):
        # Django's app loading: an apps.py imports this module before the models exist.
        from booking.absence_periods import pending_declarations_count
        from booking.views.declarations import staff_modules
        from core.contributions import Counter

        modules = staff_modules(request)
        if not modules:
            return []
        waiting = pending_declarations_count(modules)
        return [
            Counter(
                "Absences déclarées par les familles à examiner",
                waiting,
                reverse("gestion-absences:declarations"),
                tone="warn" if waiting else "ok",
                order=15,
            )
        ]
