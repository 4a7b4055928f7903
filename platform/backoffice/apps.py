from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Gestion de la commune"

    def staff_nav(self, request):
        from core.contributions import NavEntry

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
