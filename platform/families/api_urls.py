from django.urls import path

from families import api

app_name = "famille"
urlpatterns = [
    path("foyer/", api.HouseholdView.as_view(), name="household"),
    path("foyer/coordonnees/", api.ContactsView.as_view(), name="contacts"),
    path("foyer/quotient-familial/", api.QuotientFamilialView.as_view(), name="quotient-familial"),
    path("enfants/", api.ChildListView.as_view(), name="children"),
    path("enfants/<int:pk>/", api.ChildDetailView.as_view(), name="child"),
    path("enfants/<int:pk>/sante/", api.HealthSheetView.as_view(), name="health"),
    path("entourage/", api.EntourageListView.as_view(), name="entourage"),
    path("entourage/<int:pk>/", api.EntourageDetailView.as_view(), name="entourage-member"),
    path("demandes/", api.DemandeListView.as_view(), name="demandes"),
    path("demandes/<int:pk>/", api.DemandeDetailView.as_view(), name="demande"),
    path("demandes/<int:pk>/messages/", api.DemandeMessageView.as_view(), name="messages"),
    path("demandes/<int:pk>/annuler/", api.DemandeCancelView.as_view(), name="cancel"),
    path(
        "demandes/<int:demande_pk>/pieces/<int:pk>/",
        api.AttachmentView.as_view(),
        name="attachment",
    ),
]
