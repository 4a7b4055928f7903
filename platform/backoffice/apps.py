from django.apps import AppConfig

from core.contributions import Contributor, NavEntry

ADMIN = ("town_admin",)


class BackofficeConfig(Contributor, AppConfig):
    name = "backoffice"
    verbose_name = "Gestion de la commune"

    def staff_nav(self, request):
        return [
            NavEntry(
                "Familles",
                "backoffice:families",
                order=20,
                match="backoffice:families backoffice:family",
                description="Rechercher une famille, un enfant, un e-mail.",
            ),
            NavEntry(
                "Exports",
                "backoffice:exports",
                order=30,
                description="Familles et demandes en CSV ou XLSX.",
            ),
            NavEntry(
                "Configuration de la commune",
                "backoffice:config",
                order=900,
                roles=ADMIN,
                group="Administration",
                description="Modules, services, délais, contacts, paiement, tarifs.",
            ),
            NavEntry(
                "Historique de la configuration",
                "backoffice:history",
                order=910,
                roles=ADMIN,
                group="Administration",
            ),
            NavEntry(
                "Guide des composants",
                "backoffice:styleguide",
                order=950,
                group="Aide",
                description="Boutons, champs, tableaux, badges : les composants "
                "des pages du portail.",
            ),
        ]

    def backoffice_config_pages(self, request):
        data = request.commune.config
        zone = data.get("school_holiday_zone", "")
        return [
            NavEntry(
                "Réglages de la commune",
                "backoffice:config-town",
                order=10,
                roles=ADMIN,
                description=f"site, zone de vacances {zone}, alias, clé d'activation, "
                "modifications faites par les familles",
            ),
            NavEntry(
                "Mentions légales et données personnelles",
                "backoffice:config-data-protection",
                order=20,
                roles=ADMIN,
            ),
            NavEntry(
                "Contacts",
                "backoffice:config-contacts",
                order=30,
                roles=ADMIN,
                description=_contacts_summary(data),
            ),
            NavEntry(
                "Textes des e-mails",
                "backoffice:config-emails",
                order=90,
                roles=ADMIN,
                description=_emails_summary(data),
            ),
        ]


def _contacts_summary(data: dict) -> str:
    label = (data.get("contact") or {}).get("label", "")
    others = len(data.get("contacts") or [])
    if others:
        return f"{label} et {others} autre{'s' if others > 1 else ''}"
    return label


def _emails_summary(data: dict) -> str:
    n = len(data.get("email_templates") or {})
    if not n:
        return "textes par défaut"
    s = "s" if n > 1 else ""
    return f"{n} texte{s} propre{s} à la commune"
