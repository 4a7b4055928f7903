from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Gestion de la commune"

    def ready(self):
        from core.backoffice import register

        register(
            "Demandes des familles",
            "demandes:inbox",
            description="Boîte de réception des demandes.",
        )
        register(
            "Familles",
            "backoffice:families",
            description="Rechercher une famille, un enfant, un e-mail.",
        )
        register(
            "Exports", "backoffice:exports", description="Familles et demandes en CSV ou XLSX."
        )
        register(
            "Facturation",
            "backoffice:billing",
            area="billing",
            description="Tarifs en vigueur et impayés.",
        )
        register(
            "Configuration de la commune",
            "backoffice:config",
            roles=("town_admin",),
            group="Administration",
            description="Modules, services, délais, contacts, paiement, tarifs.",
        )
        register(
            "Historique de la configuration",
            "backoffice:history",
            roles=("town_admin",),
            group="Administration",
        )
        register(
            "Guide des composants",
            "backoffice:styleguide",
            group="Aide",
            description="Boutons, champs, tableaux, badges : les composants des pages du portail.",
        )
