from core.modules import ServiceKind, ServiceModuleConfig


class BillingConfig(ServiceModuleConfig):
    default = True  # apps.py also imports the base class
    name = "modules.billing"
    label = "billing"
    verbose_name = "Facturation et paiement"
    module_code = "billing"
    module_label = "Facturation et paiement"
    # Billing offers no service of its own: it prices the other modules' ones.
    service_kinds = ()
