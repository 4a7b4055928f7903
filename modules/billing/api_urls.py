from django.urls import path

from core.api_views import ModuleInfoView

from . import api

app_name = "billing"
urlpatterns = [
    path("", ModuleInfoView.as_view(module_code="billing"), name="info"),
    path("simulateur/", api.Simulator.as_view(), name="simulator"),
    path("factures/", api.FamilyInvoices.as_view(), name="invoices"),
    path("factures/<int:pk>/", api.FamilyInvoice.as_view(), name="invoice"),
    path("factures/<int:pk>/paiement/", api.FamilyInvoicePayment.as_view(), name="invoice-pay"),
    path("paiements/<int:pk>/", api.FamilyPayment.as_view(), name="payment"),
    path("mandats/", api.FamilyMandates.as_view(), name="mandates"),
    path("mandats/<int:pk>/", api.FamilyMandate.as_view(), name="mandate"),
]
