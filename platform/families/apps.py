from django.apps import AppConfig


class FamiliesConfig(AppConfig):
    name = "families"
    verbose_name = "Familles"

    def family_nav(self, request):
        from core.contributions import NavEntry

        return [
            NavEntry("Tableau de bord", "families:dashboard", 10, match="mon-espace/$"),
            NavEntry("Ma famille", "families:family", 60, match="mon-espace/famille"),
            NavEntry("Mon compte", "families:coordinates", 80, match="mon-espace/coordonnees"),
        ]

    def ready(self) -> None:
        # Requests for family changes that need a staff validation: accepting
        # one applies the change (demandes.handlers).
        from families.services import register_handlers

        register_handlers()
