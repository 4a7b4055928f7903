"""The e-mail demandes sends, for the towns' own texts (core.mail_templates)."""

from core.mail_templates import EmailTemplate

TEMPLATES = {
    "demandes/email/notification.txt": EmailTemplate(
        name="demandes/email/notification.txt",
        label="Demandes — nouveau statut ou nouveau message",
        subject="Votre demande « <objet> » : <statut> / Nouveau message sur votre demande",
        variables={
            "what": "« status » (nouveau statut) ou « message » (nouveau message)",
            "demande.subject": "objet de la demande",
            "status_label": "nouveau statut en toutes lettres",
            "url": "adresse de la demande sur le portail",
        },
        sample={
            "what": "status",
            "demande": {"subject": "Changement d'adresse"},
            "status_label": "acceptée",
            "url": "https://guichet-famille.fr/ville/demandes/1/",
        },
    ),
}
