"""Routed by portal/urls_public.py only while settings.PAYMENT_SIMULATOR is on."""

from django.urls import path

from . import views

app_name = "paysim"
urlpatterns = [
    path("payzen/", views.payzen, name="payzen"),
    path("paybox/", views.paybox, name="paybox"),
]
