from django.urls import path

from content import staff, views

app_name = "content"
urlpatterns = [
    path("actualites/", views.news_list, name="news"),
    path("actualites/<int:pk>/", views.news_detail, name="news-detail"),
    path("actualites/<int:pk>/image/", views.news_image, name="news-image"),
    path(
        "actualites/<int:pk>/documents/<int:attachment_pk>/",
        views.news_attachment,
        name="news-attachment",
    ),
    path("menus/", views.menus, name="menus"),
    path("infos/", views.pages, name="pages"),
    path("infos/<slug:slug>/", views.page, name="page"),
    path("reglements/", views.reglements, name="reglements"),
    path("reglements/<int:pk>/fichier/", views.reglement_file, name="reglement-file"),
    path("contacts/", views.contacts, name="contacts"),
    path("accessibilite/", views.accessibility_statement, name="accessibility"),
    path("mentions-legales/", views.legal, name="legal"),
    path("donnees-personnelles/", views.privacy, name="privacy"),
    path("gestion/contenu/", staff.home, name="staff-home"),
    path("gestion/contenu/<str:kind_code>/nouveau/", staff.edit, name="staff-new"),
    path("gestion/contenu/<str:kind_code>/<int:pk>/", staff.edit, name="staff-edit"),
    path("gestion/contenu/<str:kind_code>/<int:pk>/supprimer/", staff.delete, name="staff-delete"),
    path(
        "gestion/contenu/<str:kind_code>/<int:pk>/historique/",
        staff.history,
        name="staff-history",
    ),
    path(
        "gestion/contenu/actualites/<int:pk>/documents/",
        staff.add_attachment,
        name="staff-attachment-add",
    ),
    path(
        "gestion/contenu/actualites/<int:pk>/documents/<int:attachment_pk>/supprimer/",
        staff.delete_attachment,
        name="staff-attachment-delete",
    ),
]
