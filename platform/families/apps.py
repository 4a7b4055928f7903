from django.apps import AppConfig

from core.contributions import Contributor, DashboardCard, NavEntry


class FamiliesConfig(Contributor, AppConfig):
    name = "families"
    verbose_name = "Familles"

    def ready(self) -> None:
        # Requests for family changes that need a staff validation: accepting
        # one applies the change (demandes.handlers).
        from families.services import register_handlers

        register_handlers()

    # --- contribution points (core.contributions) -----------------------------------
    # The dashboard view puts `adult`, `household`, `demandes` and `children` in
    # the page's context; the cards read them from there.

    def family_nav(self, request):
        return [
            NavEntry("Mon tableau de bord", "families:dashboard", order=10),
            NavEntry(
                "Ma famille",
                "families:family",
                order=60,
                match="families:family families:child families:health families:child-add",
            ),
            NavEntry("Mes coordonnées", "families:coordinates", order=62),
            NavEntry("Entourage", "families:entourage", order=64),
            NavEntry(
                "Mes demandes",
                "families:demandes",
                order=70,
                match="families:demandes families:demande",
            ),
        ]

    def family_dashboard_cards(self, request, household):
        return [
            DashboardCard("families/cards/demandes.html", order=10),
            DashboardCard("families/cards/vault.html", order=30),
            DashboardCard("families/cards/coordinates.html", order=40),
            DashboardCard("families/cards/family.html", order=50),
            DashboardCard("families/cards/quotient.html", order=60),
            DashboardCard("families/cards/editions.html", order=70),
        ]
