from django.urls import path

from backoffice import (
    config_views,
    family_views,
    identity,
    import_views,
    service_views,
    styleguide,
    town_views,
    views,
)

app_name = "backoffice"
urlpatterns = [
    path("", views.home, name="home"),
    path("styleguide/", styleguide.styleguide, name="styleguide"),
    path("familles/", views.families, name="families"),
    path("familles/<int:pk>/", family_views.family, name="family"),
    path("familles/<int:pk>/agir/", family_views.family_act, name="family-act"),
    path(
        "familles/<int:pk>/franceconnect/delier/",
        family_views.family_franceconnect_unlink,
        name="family-franceconnect-unlink",
    ),
    path("exports/", views.exports, name="exports"),
    path("exports/familles.csv", views.export_families, {"fmt": "csv"}, name="export-families-csv"),
    path(
        "exports/familles.xlsx", views.export_families, {"fmt": "xlsx"}, name="export-families-xlsx"
    ),
    path("exports/demandes.csv", views.export_demandes, {"fmt": "csv"}, name="export-demandes-csv"),
    path(
        "exports/demandes.xlsx", views.export_demandes, {"fmt": "xlsx"}, name="export-demandes-xlsx"
    ),
    path("configuration/", views.config, name="config"),
    path("configuration/reprise/", import_views.import_families, name="config-import"),
    path(
        "configuration/reprise/avancement/",
        import_views.import_progress,
        name="config-import-progress",
    ),
    path(
        "configuration/reprise/importer/",
        import_views.import_families_apply,
        name="config-import-apply",
    ),
    path(
        "configuration/reprise/lettres/", import_views.import_letters, name="config-import-letters"
    ),
    path(
        "configuration/reprise/modeles.zip",
        import_views.import_templates,
        name="config-import-templates",
    ),
    path("configuration/modules/", views.config_modules, name="config-modules"),
    path(
        "configuration/nouveau-service/",
        service_views.config_service_new,
        name="config-service-new",
    ),
    path("configuration/services/<slug:code>/", views.config_service, name="config-service"),
    path(
        "configuration/services/<slug:code>/options/",
        service_views.config_service_options,
        name="config-service-options",
    ),
    path(
        "configuration/services/<slug:code>/retirer/",
        service_views.config_service_retire,
        name="config-service-retire",
    ),
    path("configuration/services/<slug:code>/apercu/", views.config_preview, name="config-preview"),
    path("configuration/commune/", town_views.town_settings, name="config-town"),
    path("configuration/identite/", identity.identity, name="config-identity"),
    path(
        "configuration/donnees-personnelles/",
        town_views.data_protection,
        name="config-data-protection",
    ),
    path("configuration/contacts/", config_views.contacts, name="config-contacts"),
    path("configuration/courriels/", config_views.emails, name="config-emails"),
    # The template's name holds slashes: the two suffixed routes come first.
    path(
        "configuration/courriels/<path:name>/apercu/",
        config_views.email_preview,
        name="config-email-preview",
    ),
    path(
        "configuration/courriels/<path:name>/retablir/",
        config_views.email_revert,
        name="config-email-revert",
    ),
    path("configuration/courriels/<path:name>/", config_views.email, name="config-email"),
    path("configuration/export.yaml", views.config_export, name="config-export"),
    path("configuration/historique/", views.history, name="history"),
    path("configuration/historique/<int:number>/", views.version, name="version"),
    path(
        "configuration/historique/<int:number>/export.yaml",
        views.version_export,
        name="version-export",
    ),
    path(
        "configuration/historique/<int:number>/restaurer/",
        views.version_restore,
        name="version-restore",
    ),
]
