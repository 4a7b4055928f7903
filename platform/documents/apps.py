from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Documents et données personnelles"

    def ready(self):
        from demandes.handlers import register
        from documents import checks  # noqa: F401  (registers the deploy check)
        from documents.personal_data import apply_erasure_demande

        register(
            "erasure", label="Effacement de mes données personnelles", apply=apply_erasure_demande
        )
