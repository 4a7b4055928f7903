from django.apps import AppConfig


class FamiliesConfig(AppConfig):
    name = "families"
    verbose_name = "Familles"

    def ready(self) -> None:
        # Requests for family changes that need a staff validation: accepting
        # one applies the change (demandes.handlers).
        from families.services import register_handlers

        register_handlers()
