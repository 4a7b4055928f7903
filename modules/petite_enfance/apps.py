from booking.contributions import BookingModuleContributions
from booking.staff_hub import StaffHubMixin
from core.modules import ServiceKind, ServiceModuleConfig


class PetiteEnfanceConfig(BookingModuleContributions, StaffHubMixin, ServiceModuleConfig):
    default = True  # apps.py also imports the base class
    name = "modules.petite_enfance"
    label = "petite_enfance"
    verbose_name = "Petite enfance"
    module_code = "petite_enfance"
    module_label = "Petite enfance"
    service_kinds = (
        ServiceKind("creche_occasionnelle", "Accueil occasionnel (crèche)", "slot"),
        ServiceKind("creche_reguliere", "Accueil régulier (crèche)", "day"),
    )

    def ready(self) -> None:
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from modules.petite_enfance.services import register_demande_kind

        register_demande_kind()

    def load_demo_data(self, commune) -> None:
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from booking.demo import load_module_demo

        load_module_demo(commune, self.module_code)

    def staff_tabs(self):
        return [
            *super().staff_tabs(),
            ("Commission des places", "petite_enfance:staff-applications"),
        ]
