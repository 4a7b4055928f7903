from core.modules import ServiceKind, ServiceModuleConfig


class PetiteEnfanceConfig(ServiceModuleConfig):
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
