from django.apps import AppConfig

from core import town_config
from core.contributions import Contributor, NavEntry

ADMIN = ("town_admin",)


class BackofficeConfig(Contributor, AppConfig):
    name = "backoffice"
    verbose_name = "Gestion de la commune"

    def staff_nav(self, request):
        entries = [
            NavEntry("Travail à faire", "backoffice:home", order=0),
            NavEntry("Familles", "backoffice:families", order=3),
            NavEntry("Exports", "backoffice:exports", order=90),
        ]
        if request.user.role == "town_admin":
            entries += [
                NavEntry("Configuration", "backoffice:config", order=95),
                NavEntry("Journal des accès", "audit:journal", order=96),
            ]
        entries.append(NavEntry("Guide des composants", "backoffice:styleguide", order=99))
        return entries

    def backoffice_config_pages(self, request):
        # The configuration page summarises the document its pages edit.
        data = town_config.editable(request.commune)
        zone = data.get("school_holiday_zone", "")
        return [
            NavEntry(
                "Identité de la commune",
                "backoffice:config-identity",
                order=5,
                roles=ADMIN,
                description="logo et couleurs des pages",
            ),
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
                "Reprise des familles d'un ancien portail",
                "backoffice:config-import",
                order=80,
                roles=ADMIN,
                description="import des foyers, enfants, fiches sanitaires et quotients ; "
                "lettres de clé d'activation",
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
