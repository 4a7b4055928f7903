"""The e-mails booking sends, for the towns' own texts (core.mail_templates)."""

from datetime import UTC, date, datetime, timedelta

from core.mail_templates import EmailTemplate

_PORTAL = {"portal_url": "adresse du portail famille de la commune"}
_CHILD = {"child.first_name": "prénom de l'enfant"}
_URL = "https://guichet-famille.fr/ville/"
_DAY = date.today() + timedelta(days=10)
_SLOT = {"day": _DAY, "activity": {"name": "Restauration scolaire — École du centre"}}
_SLOT_VARS = {
    "slot.day": "jour réservé (filtre |jour : « mercredi 17 mars 2027 »)",
    "slot.activity.name": "activité (service et lieu)",
}

TEMPLATES = {
    "booking/email/opening_invitation.txt": EmailTemplate(
        name="booking/email/opening_invitation.txt",
        label="Réservations — invitation à se connecter avant une ouverture (file d'attente)",
        subject="Ouverture des réservations : connectez-vous en avance",
        variables={
            "label": "libellé de la période (ex. « Été 2027 »)",
            "opens": "date et heure de l'ouverture",
            "early_minutes": "minutes du tirage au sort avant l'ouverture",
            "early_from": "date et heure du début du tirage au sort",
            "login_url": "adresse de la page de connexion",
            "reset_url": "adresse de « mot de passe oublié »",
            "queue_url": "adresse de la file d'attente de l'ouverture",
            "commune.name": "nom de la commune",
        },
        sample={
            "label": "Été 2027",
            "opens": "lundi 1er mars 2027 à 08:30",
            "early_minutes": 15,
            "early_from": "lundi 1er mars 2027 à 08:15",
            "login_url": _URL + "compte/connexion/",
            "reset_url": _URL + "compte/mot-de-passe-oublie/",
            "queue_url": _URL + "file-attente/1/",
            "commune": {"name": "Castres"},
        },
    ),
    "booking/email/promoted.txt": EmailTemplate(
        name="booking/email/promoted.txt",
        label="Réservations — place obtenue depuis la liste d'attente",
        subject="Une place s'est libérée : réservation confirmée",
        variables={**_CHILD, **_SLOT_VARS, **_PORTAL},
        sample={"child": {"first_name": "Léa"}, "slot": _SLOT, "portal_url": _URL},
    ),
    "booking/email/offer.txt": EmailTemplate(
        name="booking/email/offer.txt",
        label="Réservations — place proposée (liste d'attente)",
        subject="Une place vous est proposée",
        variables={
            **_CHILD,
            **_SLOT_VARS,
            "until": "date et heure limite pour répondre",
            **_PORTAL,
        },
        sample={
            "child": {"first_name": "Léa"},
            "slot": _SLOT,
            "until": "vendredi 19 mars 2027 à 18:00",
            "portal_url": _URL,
        },
    ),
    "booking/email/registration.txt": EmailTemplate(
        name="booking/email/registration.txt",
        label="Inscriptions — demande reçue, validée ou refusée",
        subject="Inscription de <prénom> — <service> : <statut>",
        variables={
            **_CHILD,
            "registration.status": "statut : « pending » (reçue), « accepted » (validée), "
            "« refused » (refusée)",
            "registration.service.name": "nom du service",
            "registration.school_year_label": "année scolaire (ex. 2026-2027)",
            **_PORTAL,
        },
        sample={
            "child": {"first_name": "Léa"},
            "registration": {
                "status": "accepted",
                "service": {"name": "Restauration scolaire"},
                "school_year_label": "2026-2027",
            },
            "portal_url": _URL,
        },
    ),
    "booking/email/changes.txt": EmailTemplate(
        name="booking/email/changes.txt",
        label="Réservations — accusé de réception des modifications",
        subject="Vos réservations sont enregistrées (<service>)",
        variables={
            "service.name": "nom du service",
            "lines": "liste des changements (une ligne par jour : {% for line in lines %})",
            "changeset.pk": "numéro de l'accusé de réception",
            "changeset.created_at": "date et heure de l'enregistrement (filtre |moment)",
            **_PORTAL,
        },
        sample={
            "service": {"name": "Restauration scolaire"},
            "lines": ["Léa — mercredi 17 mars 2027 — Restauration scolaire : réservé"],
            "changeset": {"pk": 1234, "created_at": datetime.now(UTC)},
            "portal_url": _URL,
        },
    ),
    "booking/email/absence.txt": EmailTemplate(
        name="booking/email/absence.txt",
        label="Absences — signalement reçu ou examiné",
        subject="Signalement d'absence reçu / Absence examinée : <décision>",
        variables={
            **_CHILD,
            "absence.decision": "décision : « pending » (à examiner) ou la décision prise",
            "absence.get_decision_display": "décision en toutes lettres",
            "absence.staff_comment": "message du service (peut être vide)",
            "absence.booking.slot.day": "jour de l'absence (filtre |jour)",
            "absence.booking.slot.activity.name": "activité",
            **_PORTAL,
        },
        sample={
            "child": {"first_name": "Léa"},
            "absence": {
                "decision": "justified",
                "get_decision_display": "justifiée",
                "staff_comment": "Certificat reçu, merci.",
                "booking": {"slot": _SLOT},
            },
            "portal_url": _URL,
        },
    ),
    "booking/email/staff_change.txt": EmailTemplate(
        name="booking/email/staff_change.txt",
        label="Réservations — changement fait par le service (téléphone, guichet)",
        subject="<Changement> par le service : <prénom>, <jour>",
        variables={
            **_CHILD,
            "what": "ce qui a été fait (« réservation enregistrée », « annulation hors délai "
            "enregistrée »…)",
            **_SLOT_VARS,
            "late": "vrai si le changement dépasse la date limite habituelle",
            "reason": "motif indiqué par l'agent",
            **_PORTAL,
        },
        sample={
            "child": {"first_name": "Léa"},
            "what": "réservation hors délai enregistrée",
            "slot": _SLOT,
            "late": True,
            "reason": "Appel de la maman : reprise du travail",
            "portal_url": _URL,
        },
    ),
    "booking/email/absence_declaration.txt": EmailTemplate(
        name="booking/email/absence_declaration.txt",
        label="Absences — déclaration sur une période reçue",
        subject="Absence de <prénom> enregistrée",
        variables={
            **_CHILD,
            "declaration.first_day": "premier jour d'absence (filtre |jour)",
            "declaration.last_day": "dernier jour d'absence (filtre |jour)",
            "declaration.get_reason_display": "motif en toutes lettres",
            "days": "les jours concernés, lus dans {% for d in days %}",
            "d.day": "dans la boucle : le jour (filtre |jour)",
            "d.service_name": "dans la boucle : le service",
            "d.consequence": "dans la boucle : ce que la facturation fera de ce jour",
            **_PORTAL,
        },
        sample={
            "child": {"first_name": "Léa"},
            "declaration": {
                "first_day": _DAY,
                "last_day": _DAY + timedelta(days=2),
                "get_reason_display": "maladie",
            },
            "days": [
                {
                    "day": _DAY,
                    "service_name": "Restauration scolaire",
                    "consequence": "non facturé si le service accepte le justificatif",
                }
            ],
            "portal_url": _URL,
        },
    ),
}
