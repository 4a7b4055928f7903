from datetime import timedelta

from django.apps import AppConfig
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Documents et données personnelles"

    def family_nav(self, request):
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from core.contributions import NavEntry

        return [NavEntry("Documents", "documents:list", 50, match="documents:*")]

    def family_dashboard_cards(self, request, household):
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from core.contributions import DashboardCard
        from documents.models import Document

        if household is None:
            return []
        soon = timezone.localdate() + timedelta(days=30)
        to_act = list(
            Document.objects.filter(household=household)
            .filter(Q(status=Document.Status.REJECTED) | Q(valid_until__lte=soon))
            .select_related("child")[:5]
        )
        return [DashboardCard("documents/family/_card_documents.html", 50, {"documents": to_act})]

    def ready(self):
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from demandes.handlers import register
        from documents import checks  # noqa: F401  (registers the deploy check)
        from documents.personal_data import apply_erasure_demande

        register(
            "erasure", label="Effacement de mes données personnelles", apply=apply_erasure_demande
        )

    def staff_nav(self, request):
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from core.contributions import NavEntry

        return [NavEntry("Justificatifs", "documents:staff-list", order=8)]

    def staff_counters(self, request):
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from core.contributions import Counter
        from documents.models import Document

        waiting = Document.objects.filter(status=Document.Status.TO_CHECK).count()
        return [
            Counter(
                "Justificatifs à vérifier",
                waiting,
                reverse("documents:staff-list") + "?statut=to_check",
                tone="warn" if waiting else "ok",
                order=5,
            )
        ]
