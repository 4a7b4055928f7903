from booking.contributions import BookingModuleContributions
from booking.staff_hub import StaffHubMixin
from core.modules import ServiceKind, ServiceModuleConfig


class PeriscolaireConfig(BookingModuleContributions, StaffHubMixin, ServiceModuleConfig):
    default = True  # apps.py also imports the base class
    name = "modules.periscolaire"
    label = "periscolaire"
    verbose_name = "Périscolaire et restauration scolaire"
    module_code = "periscolaire"
    module_label = "Périscolaire et restauration scolaire"
    service_kinds = (
        ServiceKind("restauration_scolaire", "Restauration scolaire", "day"),
        ServiceKind("accueil_matin", "Accueil périscolaire du matin", "day"),
        ServiceKind("accueil_soir", "Accueil périscolaire du soir", "day"),
        ServiceKind("etudes", "Études surveillées", "day"),
        ServiceKind("transport_scolaire", "Transport scolaire", "day"),
    )

    def load_demo_data(self, commune) -> None:
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from booking.demo import load_module_demo

        load_module_demo(commune, self.module_code)
