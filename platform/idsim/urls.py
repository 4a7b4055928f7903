"""Routed by portal/urls_public.py only while settings.IDENTITY_SIMULATOR is on."""

from django.urls import path

from . import views

app_name = "idsim"
urlpatterns = [
    path("", views.mount, {"rest": ""}, name="home"),
    path("<path:rest>", views.mount, name="mount"),
]
