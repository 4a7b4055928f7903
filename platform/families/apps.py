from celery.schedules import crontab
from django.apps import AppConfig

from core.contributions import Contributor, DashboardCard, NavEntry, PeriodicJob


class FamiliesConfig(Contributor, AppConfig):
    name = "families"
    verbose_name = "Familles"

    def ready(self) -> None:
        # Requests for family changes that need a staff validation: accepting
        # one applies the change (demandes.handlers).
        from accounts.events import unlinked_account_confirmed
        from families import checks, linking  # noqa: F401  (checks: registers the deploy check)
        from families.services import register_handlers

        register_handlers()
        # Account linking: accepting a `link_account` request; an account confirmed
        # without a key asks staff to link it.
        linking.register()
        unlinked_account_confirmed.connect(
            linking.on_unlinked_account_confirmed, dispatch_uid="families_link_request"
        )

    def periodic_jobs(self) -> list:
        """The quotient familial asked again of the CAF/MSA each month, only in
        the towns that opted in (`api_particulier.refresh: true`)."""
        return [
            PeriodicJob(
                "families-qf-refresh",
                "families.tasks.refresh_qf_for_town",
                crontab(minute=30, hour=3, day_of_month=20),
                window_seconds=3600,
                town_filter={"config__api_particulier__refresh": True},
            )
        ]

    # --- contribution points (core.contributions) -----------------------------------
    # The dashboard view puts `adult`, `household`, `demandes` and `children` in
    # the page's context; the cards read them from there.

    def family_nav(self, request):
        # The family menu reads « Tableau de bord · Réservations · Absences ·
        # Factures · Documents · Ma famille · Demandes · Mon compte »: the
        # household's pages (children, health sheets, entourage, quotient) sit
        # under « Ma famille », the person's own (identifiers, password,
        # coordinates, a key received later) under « Mon compte ».
        return [
            NavEntry("Tableau de bord", "families:dashboard", order=10),
            NavEntry(
                "Ma famille",
                "families:family",
                order=60,
                match="families:family families:child families:health families:child-add "
                "families:entourage families:quotient-familial families:summary",
            ),
            NavEntry(
                "Demandes",
                "families:demandes",
                order=70,
                match="families:demandes families:demande",
            ),
            NavEntry(
                "Mon compte",
                "accounts:account",
                order=80,
                match="accounts:account accounts:identifiers accounts:password_change "
                "accounts:key-later accounts:declare-children families:coordinates",
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
