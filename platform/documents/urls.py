from django.urls import path

from documents import views

app_name = "documents"
urlpatterns = [
    path("mes-documents/", views.document_list, name="list"),
    path("mes-documents/<int:pk>/", views.document_detail, name="detail"),
    path("mes-documents/<int:pk>/fichier/", views.document_download, name="download"),
    path("mes-documents/<int:pk>/supprimer/", views.document_delete, name="delete"),
    path("coffre-fort/", views.vault, name="vault"),
    path("coffre-fort/<uuid:public_id>/fichier/", views.vault_download, name="vault-download"),
    path("coffre-fort/<uuid:public_id>/supprimer/", views.vault_delete, name="vault-delete"),
    path("coffre-fort/<uuid:public_id>/transmettre/", views.vault_share, name="vault-share"),
    path("mes-donnees/", views.my_data, name="my-data"),
    path("mes-donnees/export.zip", views.export, name="export"),
    path("mes-donnees/recapitulatif.pdf", views.edition_summary, name="edition-summary"),
    path(
        "mes-donnees/attestation-<int:child_pk>.pdf",
        views.edition_certificate,
        name="edition-certificate",
    ),
    path("regles-de-reservation.pdf", views.edition_rules, name="edition-rules"),
    path("gestion/justificatifs/", views.staff_document_list, name="staff-list"),
    path("gestion/justificatifs/<int:pk>/", views.staff_document_detail, name="staff-detail"),
    path(
        "gestion/justificatifs/<int:pk>/fichier/",
        views.staff_document_download,
        name="staff-download",
    ),
    path("gestion/donnees-personnelles/", views.staff_erasure_list, name="staff-erasures"),
    path(
        "gestion/donnees-personnelles/foyers/<int:household_pk>/",
        views.staff_erasure_plan,
        name="staff-erasure-plan",
    ),
]
