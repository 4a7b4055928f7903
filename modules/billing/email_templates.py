"""The e-mails billing sends, for the towns' own texts (core.mail_templates)."""

from core.mail_templates import EmailTemplate

_INVOICE = {
    "invoice.number": "numéro de la facture",
    "invoice.regie_name": "régie qui émet la facture",
}
_SAMPLE_INVOICE = {
    "number": "2026-000123",
    "regie_name": "Régie Enfance",
    "period_label": "novembre 2026",
}

TEMPLATES = {
    "billing/email/invoice_available.txt": EmailTemplate(
        name="billing/email/invoice_available.txt",
        label="Facturation — facture disponible",
        subject="<commune> — votre facture <mois> est disponible",
        variables={
            **_INVOICE,
            "invoice.period_label": "mois facturé",
            "total": "montant (ex. « 42,50 € »)",
            "due_date": "date limite de paiement",
            "debit_date": "date du prélèvement (vide sans prélèvement)",
            "url": "adresse de la facture sur le portail",
        },
        sample={
            "invoice": _SAMPLE_INVOICE,
            "total": "42,50 €",
            "due_date": "30 novembre 2026",
            "debit_date": "",
            "url": "https://guichet-famille.fr/ville/factures/1/",
        },
    ),
    "billing/email/receipt.txt": EmailTemplate(
        name="billing/email/receipt.txt",
        label="Facturation — reçu de paiement en ligne",
        subject="<commune> — reçu de paiement de la facture <numéro>",
        variables={
            **_INVOICE,
            "amount": "montant payé",
            "paid_at": "date et heure du paiement",
            "payment.receipt_number": "numéro du reçu",
        },
        sample={
            "invoice": _SAMPLE_INVOICE,
            "amount": "42,50 €",
            "paid_at": "lundi 9 novembre 2026 à 10:12",
            "payment": {"receipt_number": "R-2026-000045"},
        },
    ),
    "billing/email/credit_family.txt": EmailTemplate(
        name="billing/email/credit_family.txt",
        label="Facturation — paiement reçu pour une facture déjà réglée (crédit)",
        subject="<commune> — paiement reçu, porté au crédit de votre compte",
        variables={
            **_INVOICE,
            "amount": "montant reçu, gardé au crédit du compte",
            "received_at": "date et heure du paiement",
        },
        sample={
            "invoice": _SAMPLE_INVOICE,
            "amount": "42,50 €",
            "received_at": "lundi 9 novembre 2026 à 10:12",
        },
    ),
    "billing/email/credit_alert.txt": EmailTemplate(
        name="billing/email/credit_alert.txt",
        label="Facturation — alerte à la régie : trop-perçu à traiter",
        subject="<commune> — trop-perçu de <montant> à traiter (facture <numéro>)",
        variables={
            **_INVOICE,
            "amount": "montant reçu en trop",
            "received_at": "date et heure du paiement",
            "household": "nom du foyer",
            "credit.transaction_id": "référence de la transaction chez le prestataire",
            "url": "adresse de la liste des trop-perçus (gestion)",
        },
        sample={
            "invoice": _SAMPLE_INVOICE,
            "amount": "42,50 €",
            "received_at": "lundi 9 novembre 2026 à 10:12",
            "household": "Famille Martin",
            "credit": {"transaction_id": "20261109_000123"},
            "url": "https://guichet-famille.fr/ville/billing/gestion/trop-percus/",
        },
        required=("url",),
    ),
    "billing/email/mandate.txt": EmailTemplate(
        name="billing/email/mandate.txt",
        label="Facturation — mandat de prélèvement SEPA enregistré",
        subject="<commune> — votre mandat de prélèvement <RUM>",
        variables={
            "mandate.rum": "référence unique du mandat (RUM, obligatoire dans le texte)",
            "mandate.holder_name": "titulaire du compte",
            "mandate.masked_iban": "IBAN masqué",
            "creditor.name": "créancier",
            "creditor.creditor_id": "ICS du créancier",
            "applies_from": "première facture prélevée (ex. « de septembre 2026 »)",
        },
        sample={
            "mandate": {
                "rum": "CASTRES-2026-000012",
                "holder_name": "Camille Martin",
                "masked_iban": "FR76 **** **** **** **** **** 189",
            },
            "creditor": {"name": "Ville de Castres", "creditor_id": "FR72ZZZ123456"},
            "applies_from": "de septembre 2026",
        },
        # The SEPA rulebook's pre-notification: the RUM and the ICS must be given.
        required=("mandate.rum", "creditor.creditor_id"),
    ),
    "billing/email/debit_rejected.txt": EmailTemplate(
        name="billing/email/debit_rejected.txt",
        label="Facturation — prélèvement rejeté par la banque",
        subject="<commune> — prélèvement rejeté, facture <numéro> à payer",
        variables={**_INVOICE, "reason": "motif du rejet", "amount": "montant à payer"},
        sample={
            "invoice": _SAMPLE_INVOICE,
            "reason": "AM04 provision insuffisante",
            "amount": "42,50 €",
        },
    ),
}

_REMINDER_VARIABLES = {
    **_INVOICE,
    "invoice.period_label": "mois facturé",
    "balance": "reste à payer (ex. « 42,50 € »)",
    "due_date": "date d'échéance dépassée",
    "url": "adresse de la facture sur le portail",
    "letter_url": "adresse de la lettre de relance (PDF) sur le portail",
}
_REMINDER_SAMPLE = {
    "invoice": _SAMPLE_INVOICE,
    "balance": "42,50 €",
    "due_date": "lundi 30 novembre 2026",
    "url": "https://guichet-famille.fr/ville/billing/factures/1/",
    "letter_url": "https://guichet-famille.fr/ville/billing/factures/1/relance.pdf",
}
TEMPLATES["billing/email/reminder.txt"] = EmailTemplate(
    name="billing/email/reminder.txt",
    label="Facturation — relance d'une facture impayée",
    subject="<commune> — Rappel : facture <numéro> impayée",
    variables={
        **_REMINDER_VARIABLES,
        "stage_label": "« première relance » ou « seconde relance »",
        "how_to_pay": "comment payer (texte de la commune)",
    },
    sample={
        **_REMINDER_SAMPLE,
        "stage_label": "première relance",
        "how_to_pay": "En ligne sur le portail, ou à la régie.",
    },
    required=("url",),
)
TEMPLATES["billing/email/handover.txt"] = EmailTemplate(
    name="billing/email/handover.txt",
    label="Facturation — facture impayée transmise au Trésor public",
    subject="<commune> — facture <numéro> transmise au Trésor public",
    variables=_REMINDER_VARIABLES,
    sample=_REMINDER_SAMPLE,
    required=("url",),
)
