from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "content"
    verbose_name = "Espace public"

    def ready(self):
        # App loading: models and the editions' hook are imported once the registry is ready.
        from content.models import Reglement
        from documents.editions import register_rules_documents

        # The town's booking rules (PDF) list the published règlements.
        register_rules_documents(lambda: list(Reglement.objects.visible()))
