"""Demo data of the booking modules (rundemo): idempotent, fictitious family when
the households' demo is absent, days opened, registrations and bookings."""

from booking.demo import OWN_FAMILY, load_module_demo
from booking.models import Booking, DaySlot, Registration


def test_demo_data_is_loaded_once(castres, in_town):
    from families.models import Household

    with in_town(castres):
        for module in ("periscolaire", "alsh", "petite_enfance"):
            load_module_demo(castres, module)
        counts = (DaySlot.objects.count(), Registration.objects.count(), Booking.objects.count())
        assert Household.objects.filter(name=OWN_FAMILY).count() == 1
        assert all(counts), counts
        for module in ("periscolaire", "alsh", "petite_enfance"):
            load_module_demo(castres, module)
        assert (
            DaySlot.objects.count(),
            Registration.objects.count(),
            Booking.objects.count(),
        ) == counts
