from django.urls import path

from families import views

app_name = "families"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("famille/", views.family, name="family"),
    path("famille/enfants/ajouter/", views.child_add, name="child-add"),
    path("famille/enfants/<int:pk>/", views.child_detail, name="child"),
    path("famille/enfants/<int:pk>/fiche-sanitaire/", views.health_edit, name="health"),
    path("coordonnees/", views.coordinates, name="coordinates"),
    path("entourage/", views.entourage, name="entourage"),
    path("entourage/<int:pk>/retirer/", views.entourage_remove, name="entourage-remove"),
    path("quotient-familial/", views.quotient_familial, name="quotient-familial"),
    path("quotient-familial/caf/", views.quotient_familial_caf, name="quotient-familial-caf"),
    path("demandes/", views.demande_list, name="demandes"),
    path("demandes/<int:pk>/", views.demande_detail, name="demande"),
    path("demandes/<int:pk>/annuler/", views.demande_cancel, name="demande-cancel"),
    path(
        "demandes/<int:demande_pk>/pieces/<int:pk>/",
        views.attachment_download,
        name="attachment",
    ),
    path("recapitulatif/", views.summary, name="summary"),
]
