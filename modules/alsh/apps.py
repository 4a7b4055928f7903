from booking.contributions import BookingModuleContributions
from booking.staff_hub import StaffHubMixin
from core.modules import ServiceKind, ServiceModuleConfig


class AlshConfig(BookingModuleContributions, StaffHubMixin, ServiceModuleConfig):
    default = True  # apps.py also imports the base class
    name = "modules.alsh"
    label = "alsh"
    verbose_name = "Accueil de loisirs (ALSH)"
    module_code = "alsh"
    module_label = "Accueil de loisirs (ALSH)"
    service_kinds = (
        ServiceKind("alsh_mercredi", "ALSH du mercredi", "day"),
        ServiceKind("alsh_vacances", "ALSH des vacances", "day"),
    )

    def load_demo_data(self, commune) -> None:
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from booking.demo import load_module_demo

        load_module_demo(commune, self.module_code)
