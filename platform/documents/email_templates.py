"""The e-mails documents sends, for the towns' own texts (core.mail_templates)."""

from datetime import date, timedelta

from core.mail_templates import EmailTemplate

_URL = "https://guichet-famille.fr/ville/documents/"
_DOC = {
    "label": "Attestation CAF",
    "created_at": date.today() - timedelta(days=3),
    "valid_until": date.today() + timedelta(days=20),
    "rejection_reason": "Document illisible",
}

TEMPLATES = {
    "documents/email/rejected.txt": EmailTemplate(
        name="documents/email/rejected.txt",
        label="Documents — justificatif refusé",
        subject="Un de vos documents a été refusé",
        variables={
            "document.label": "nom du document",
            "document.created_at": 'date du dépôt (filtre date:"d/m/Y")',
            "document.rejection_reason": "motif du refus",
            "url": "adresse de la page « Mes documents »",
        },
        sample={"document": _DOC, "url": _URL},
    ),
    "documents/email/expiry_reminder.txt": EmailTemplate(
        name="documents/email/expiry_reminder.txt",
        label="Documents — justificatif expiré ou bientôt expiré",
        subject="Un de vos justificatifs a expiré / arrive à expiration",
        variables={
            "document.label": "nom du document",
            "document.valid_until": 'fin de validité (filtre date:"d/m/Y")',
            "expired": "vrai si le document a déjà expiré",
            "today": "date du jour",
            "url": "adresse de la page « Mes documents »",
        },
        sample={"document": _DOC, "expired": False, "today": date.today(), "url": _URL},
    ),
    "documents/email/erased.txt": EmailTemplate(
        name="documents/email/erased.txt",
        label="Données personnelles — dossier effacé",
        subject="Vos données ont été effacées",
        variables={
            "today": "date de l'effacement",
            "kept": "liste des informations conservées et pourquoi ({% for reason in kept %})",
        },
        sample={
            "today": date.today(),
            "kept": ["Factures : 10 ans (code général des collectivités territoriales)"],
        },
    ),
}
