from django.apps import AppConfig
from django.urls import reverse

from core.contributions import Contributor, NavEntry


class DemandesConfig(Contributor, AppConfig):
    name = "demandes"
    verbose_name = "Demandes"

    def staff_nav(self, request):
        return [NavEntry("Demandes", "demandes:inbox", order=5)]

    def staff_counters(self, request):
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from core.contributions import Counter
        from demandes.models import Demande
        from demandes.selectors import demandes_for_staff

        waiting = (
            demandes_for_staff(request.user)
            .filter(status__in=[Demande.Status.SUBMITTED, Demande.Status.IN_REVIEW])
            .count()
        )
        return [
            Counter(
                "Demandes à traiter",
                waiting,
                reverse("demandes:inbox"),
                tone="warn" if waiting else "ok",
                order=1,
            )
        ]
