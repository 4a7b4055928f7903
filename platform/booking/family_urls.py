"""The family space's booking pages, under /<town>/mon-espace/ (not under a
module's namespace: they gather every enabled module's services, each module
contributing its calendar lines through the registry)."""

from django.urls import path

from booking import family_views as views

app_name = "famille-reservations"
urlpatterns = [
    path("reservations/", views.calendar, name="calendar"),
    path("reservations/panier/", views.basket_update, name="basket-update"),
    path("reservations/panier/retirer/", views.basket_remove, name="basket-remove"),
    path("reservations/panier/confirmer/", views.basket_confirm, name="basket-confirm"),
    path("reservations/jours-fixes/", views.basket_pattern, name="basket-pattern"),
    path("reservations/autres-enfants/", views.basket_copy, name="basket-copy"),
    path("absences/", views.absences, name="absences"),
]
