from django.apps import AppConfig

from core.contributions import Contributor, NavEntry


class DemandesConfig(Contributor, AppConfig):
    name = "demandes"
    verbose_name = "Demandes"

    def staff_nav(self, request):
        return [
            NavEntry(
                "Demandes des familles",
                "demandes:inbox",
                order=10,
                match="demandes:*",
                description="Boîte de réception des demandes.",
            )
        ]
