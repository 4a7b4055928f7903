from django.urls import path

from . import (
    accounting_views,
    config_views,
    fake_provider,
    pes_views,
    reminder_views,
    staff_views,
    views,
)

app_name = "billing"
urlpatterns = [
    path("", views.home, name="home"),
    path("simulateur/", views.simulator, name="simulator"),
    path("tarifs/", views.tariffs, name="tariffs"),
    path("factures/", views.invoices, name="invoices"),
    path("factures/<int:pk>/", views.invoice_detail, name="invoice"),
    path("factures/<int:pk>/pdf/", views.invoice_pdf, name="invoice-pdf"),
    path("factures/<int:pk>/relance.pdf", views.reminder_pdf, name="invoice-reminder-pdf"),
    path("factures/<int:pk>/payer/", views.pay, name="pay"),
    path("factures/tout-payer/", views.pay_all, name="pay-all"),
    path("paiement/retour/", views.payment_return, name="payment-return"),
    path("paiement/notification/", views.payment_notify, name="payment-notify"),
    path("paiement/demo/", fake_provider.demo_provider, name="demo-provider"),
    path("paiements/<int:pk>/recu/", views.receipt_pdf, name="receipt-pdf"),
    path("facture-en-ligne/", views.e_invoice, name="e-invoice"),
    path("prelevement/", views.mandate, name="mandate"),
    path("prelevement/<int:pk>/revoquer/", views.mandate_revoke, name="mandate-revoke"),
    path("attestations/", views.attestations, name="attestations"),
    path("garde-partagee/", views.shared_custody, name="shared-custody"),
    path("garde-partagee/<int:pk>/", views.shared_custody_propose, name="shared-custody-propose"),
    path("attestations/<int:year>/", views.attestation_pdf, name="attestation-pdf"),
    # Town staff
    path("gestion/", staff_views.dashboard, name="staff"),
    path("gestion/facturer/", staff_views.run, name="staff-run"),
    path("gestion/factures/<int:pk>/", staff_views.invoice, name="staff-invoice"),
    path("gestion/factures/<int:pk>/avoir/", staff_views.credit, name="staff-credit"),
    path(
        "gestion/factures/<int:pk>/encaissement/",
        staff_views.desk_payment,
        name="staff-desk-payment",
    ),
    path("gestion/prelevements/", staff_views.debits, name="staff-debits"),
    path("gestion/payeurs/", staff_views.payer_rules, name="staff-payer-rules"),
    path("gestion/payeurs/<int:pk>/", staff_views.payer_rule, name="staff-payer-rule"),
    path("gestion/regie/", staff_views.regie_statement, name="staff-regie"),
    path("gestion/trop-percus/", staff_views.credits, name="staff-credits"),
    path(
        "gestion/familles/<int:household_pk>/encaissement/",
        staff_views.family_desk_payment,
        name="staff-family-desk-payment",
    ),
    path("gestion/apercu/", config_views.overview, name="staff-overview"),
    # The town admin's configuration pages (listed on /<slug>/gestion/configuration/
    # by BillingConfig.backoffice_config_pages)
    path("gestion/configuration/paiement/", config_views.payment, name="config-payment"),
    path("gestion/configuration/regies/", config_views.regies, name="config-regies"),
    path("gestion/configuration/tarifs/", config_views.tariffs, name="config-tariffs"),
    path(
        "gestion/configuration/tarifs/<slug:code>/reglages/",
        config_views.tariff_settings,
        name="config-tariff-settings",
    ),
    path(
        "gestion/configuration/tarifs/<slug:code>/nouvelle-version/",
        config_views.tariff_version,
        name="config-tariff-version",
    ),
    path(
        "gestion/configuration/tarifs/<slug:code>/versions/<str:day>/retirer/",
        config_views.tariff_delete,
        name="config-tariff-delete",
    ),
    path("gestion/regie/etat.csv", staff_views.regie_statement_csv, name="staff-regie-csv"),
    path("gestion/regie/etat.pdf", staff_views.regie_statement_pdf, name="staff-regie-pdf"),
    path("gestion/prelevements/<str:day>/export/", staff_views.export_debits, name="staff-export"),
    path("gestion/fichiers/<int:pk>/", staff_views.export_file, name="staff-export-file"),
    path("gestion/prelevements/<int:pk>/rejet/", staff_views.reject_debit, name="staff-reject"),
    # Unpaid follow-up
    path("gestion/impayes/", reminder_views.unpaid, name="staff-unpaid"),
    path(
        "gestion/impayes/factures/<int:pk>/lettre.pdf",
        reminder_views.letter,
        name="staff-unpaid-letter",
    ),
    path(
        "gestion/impayes/familles/<int:household_pk>/suspendre/",
        reminder_views.pause,
        name="staff-unpaid-pause",
    ),
    path(
        "gestion/impayes/familles/<int:household_pk>/reprendre/",
        reminder_views.resume,
        name="staff-unpaid-resume",
    ),
    # Accounting journal for the town's finance software
    path("gestion/comptabilite/", accounting_views.home, name="staff-accounting"),
    path(
        "gestion/comptabilite/journal.csv",
        accounting_views.download,
        name="staff-accounting-csv",
    ),
    # Titles for the treasury (PES V2 ORMC, Hélios)
    path("gestion/titres/", pes_views.home, name="staff-pes"),
    path("gestion/titres/constituer/", pes_views.build, name="staff-pes-build"),
    path("gestion/titres/<int:pk>/", pes_views.batch, name="staff-pes-batch"),
    path("gestion/titres/<int:pk>/fichier/", pes_views.download, name="staff-pes-download"),
    path("gestion/titres/<int:pk>/transmis/", pes_views.mark_sent, name="staff-pes-sent"),
    path("gestion/titres/<int:pk>/accuse/", pes_views.acknowledge, name="staff-pes-ack"),
    path(
        "gestion/titres/<int:pk>/accuse/fichier/",
        pes_views.acknowledge_file,
        name="staff-pes-ack-file",
    ),
    path(
        "gestion/titres/familles/<int:household_pk>/civilite/",
        pes_views.civility,
        name="staff-pes-civility",
    ),
]
