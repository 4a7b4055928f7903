"""The e-mail petite_enfance sends, for the towns' own texts (core.mail_templates)."""

from datetime import date, timedelta

from core.mail_templates import EmailTemplate

TEMPLATES = {
    "petite_enfance/email/application.txt": EmailTemplate(
        name="petite_enfance/email/application.txt",
        label="Petite enfance — pré-inscription en crèche (reçue, décision)",
        subject="Votre pré-inscription en crèche",
        variables={
            "text": "le message du service (réception, décision de la commission…)",
            "application.service.name": "nom du service",
            "application.desired_start": 'date d\'accueil souhaitée (filtre date:"d/m/Y")',
            "portal_url": "adresse du portail famille",
        },
        sample={
            "text": "Décision de la commission : acceptée.",
            "application": {
                "service": {"name": "Crèche municipale"},
                "desired_start": date.today() + timedelta(days=90),
            },
            "portal_url": "https://guichet-famille.fr/ville/",
        },
    ),
}
