"""What the booking core and the service modules built on it contribute to the
family space (core.contributions). Imported by AppConfigs: no model import at
module level (the app registry is not ready then)."""


class BookingModuleContributions:
    """Mixed into a booking service module's AppConfig (periscolaire, alsh,
    petite_enfance): the calendar lines of ITS services, so a town that switches
    the module off loses them."""

    module_code = ""

    def family_calendar_entries(self, request, household, start, end):
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

    def family_nav(self, request):
        from booking import family_space

        return family_space.family_nav(request)

    def family_dashboard_cards(self, request, household):
        from booking import family_space

        return family_space.family_dashboard_cards(request, household)
