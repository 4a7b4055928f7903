"""Routed by portal/urls_public.py only while settings.PAYMENT_SIMULATOR is on."""

from django.urls import path

from . import payfip, views

app_name = "paysim"
urlpatterns = [
    path("payzen/", views.payzen, name="payzen"),
    path("paybox/", views.paybox, name="paybox"),
    path("payfip/", payfip.page, name="payfip"),
    path("payfip/securite", payfip.soap, name="payfip-soap"),
] + [  # PayFiP's contract (WSDL and schemas), side by side as published
    path(f"payfip/{name}", payfip.contract, {"name": name}, name=f"payfip-{name.split('.')[0]}")
    for name in sorted(payfip.FILES)
]
