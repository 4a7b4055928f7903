"""The e-mails accounts sends, for the towns' own texts (core.mail_templates):
what each template receives, and sample data for the back-office preview."""

from datetime import UTC, datetime, timedelta

from core.mail_templates import EmailTemplate

_USER = {"first_name": "prénom de la personne", "username": "nom d'utilisateur"}
_SAMPLE_USER = {"first_name": "Camille", "username": "camille.martin"}
_LINK = "https://guichet-famille.fr/ville/lien-exemple/"


def _user(**extra):
    return {f"user.{k}": v for k, v in _USER.items()} | extra


TEMPLATES = {
    "accounts/emails/activation_key.txt": EmailTemplate(
        name="accounts/emails/activation_key.txt",
        label="Comptes — clé d'activation d'un espace",
        subject="<commune> — votre clé pour créer votre espace famille",
        variables={
            "adult.first_name": "prénom du représentant légal",
            "adult.last_name": "nom du représentant légal",
            "key": "la clé à saisir (obligatoire dans le texte)",
            "expires_at": 'date d\'expiration de la clé (filtre date:"d/m/Y")',
            "signup_url": "adresse de la page « Créer mon espace »",
        },
        sample={
            "adult": {"first_name": "Camille", "last_name": "Martin"},
            "key": "ABCD-EFGH-JKLM",
            "expires_at": datetime.now(UTC) + timedelta(days=30),
            "signup_url": _LINK,
        },
        required=("key",),
    ),
    "accounts/emails/confirm_email.txt": EmailTemplate(
        name="accounts/emails/confirm_email.txt",
        label="Comptes — confirmation de l'adresse e-mail",
        subject="<commune> — confirmez votre adresse e-mail",
        variables=_user(
            link="lien de confirmation (obligatoire dans le texte)",
            hours="durée de validité du lien, en heures",
        ),
        sample={"user": _SAMPLE_USER, "link": _LINK, "hours": 48},
        required=("link",),
    ),
    "accounts/emails/password_reset.txt": EmailTemplate(
        name="accounts/emails/password_reset.txt",
        label="Comptes — réinitialisation du mot de passe",
        subject="<commune> — réinitialiser votre mot de passe",
        variables=_user(
            link="lien de réinitialisation (obligatoire dans le texte)",
            minutes="durée de validité du lien, en minutes",
        ),
        sample={"user": _SAMPLE_USER, "link": _LINK, "minutes": 60},
        required=("link",),
    ),
    "accounts/emails/email_changed.txt": EmailTemplate(
        name="accounts/emails/email_changed.txt",
        label="Comptes — adresse e-mail remplacée (message à l'ancienne adresse)",
        subject="<commune> — votre adresse e-mail a changé",
        variables=_user(new="la nouvelle adresse e-mail"),
        sample={"user": _SAMPLE_USER, "new": "camille.nouvelle@example.org"},
    ),
    "accounts/emails/account_linked.txt": EmailTemplate(
        name="accounts/emails/account_linked.txt",
        label="Comptes — espace rattaché au dossier famille",
        subject="<commune> — votre espace est rattaché à votre dossier",
        variables=_user(
            **{
                "adult.household.name": "nom du foyer",
                "login_url": "adresse de la page de connexion",
            }
        ),
        sample={
            "user": _SAMPLE_USER,
            "adult": {"household": {"name": "Famille Martin"}},
            "login_url": _LINK,
        },
    ),
    "accounts/emails/signup_attempt.txt": EmailTemplate(
        name="accounts/emails/signup_attempt.txt",
        label="Comptes — tentative de création avec une adresse déjà utilisée",
        subject="<commune> — tentative de création d'un espace avec votre adresse",
        variables=_user(
            login_url="adresse de la page de connexion",
            reset_url="adresse de la page « mot de passe oublié »",
        ),
        sample={"user": _SAMPLE_USER, "login_url": _LINK, "reset_url": _LINK},
    ),
    "accounts/emails/signup_username_taken.txt": EmailTemplate(
        name="accounts/emails/signup_username_taken.txt",
        label="Comptes — création refusée : nom d'utilisateur déjà pris",
        subject="<commune> — votre espace n'a pas été créé",
        variables={
            "first_name": "prénom saisi à la création",
            "username": "le nom d'utilisateur demandé (déjà pris)",
            "signup_url": "adresse de la page « Créer mon espace »",
        },
        sample={"first_name": "Camille", "username": "camille.martin", "signup_url": _LINK},
        required=("signup_url",),
    ),
}
