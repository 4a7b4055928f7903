from django.urls import path

from documents import api

app_name = "documents"
urlpatterns = [
    path("justificatifs/", api.DocumentListView.as_view(), name="documents"),
    path("justificatifs/<int:pk>/", api.DocumentDetailView.as_view(), name="document"),
    path("justificatifs/<int:pk>/fichier/", api.DocumentFileView.as_view(), name="document-file"),
    path(
        "justificatifs/<int:pk>/demandes/", api.DocumentAttachView.as_view(), name="document-attach"
    ),
    path("gestion/justificatifs/", api.StaffDocumentListView.as_view(), name="staff-documents"),
    path(
        "gestion/justificatifs/<int:pk>/decision/",
        api.StaffDocumentReviewView.as_view(),
        name="staff-document-review",
    ),
    path(
        "gestion/justificatifs/<int:pk>/fichier/",
        api.StaffDocumentFileView.as_view(),
        name="staff-document-file",
    ),
    path("coffre-fort/", api.VaultListView.as_view(), name="vault"),
    path("coffre-fort/<uuid:public_id>/", api.VaultItemView.as_view(), name="vault-item"),
    path("coffre-fort/<uuid:public_id>/fichier/", api.VaultFileView.as_view(), name="vault-file"),
    path(
        "coffre-fort/<uuid:public_id>/transmettre/",
        api.VaultShareView.as_view(),
        name="vault-share",
    ),
    path("mes-donnees/export/", api.ExportView.as_view(), name="export"),
    path("mes-donnees/effacement/", api.ErasureView.as_view(), name="erasure"),
]
