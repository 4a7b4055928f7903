"""The platform's admin (public schema, /admin/): operators only, password AND
TOTP code (django-otp's OTPAdminSite), signing in in French."""

from django.utils.translation import ngettext_lazy
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


class OperatorLoginForm(OTPAdminAuthenticationForm):
    """django-otp's sign-in, with its messages in French (its own French
    catalogue leaves « Please select a device. » and others in English)."""

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": "Saisissez le code à six chiffres de votre application.",
        "challenge_exception": "Impossible d'envoyer le défi : {0}",
        "not_interactive": "Cet appareil n'envoie pas de code : saisissez celui qu'il affiche.",
        "challenge_message": "Défi : {0}",
        "invalid_token": "Code incorrect : vérifiez-le et saisissez-le de nouveau.",
        "n_failed_attempts": ngettext_lazy(
            "Vérification suspendue après %(failure_count)d échec : réessayez dans un moment.",
            "Vérification suspendue après %(failure_count)d échecs : réessayez dans un moment.",
            "failure_count",
        ),
        "verification_not_allowed": "La vérification du code est suspendue pour le moment.",
        "device_required": "Choisissez l'appareil qui vous donne le code.",
    }

    def _update_form(self, user):
        """django-otp re-renders the password (`value=`) in the code step: never
        echo it back into the page (caches, screenshots, shoulder surfers);
        the operator types it again with the code."""
        super()._update_form(user)
        if "password" in self.fields:
            self.fields["password"].widget.render_value = False


class OperatorAdminSite(OTPAdminSite):
    site_header = "Guichet Famille — administration de la plateforme"
    site_title = "Guichet Famille"
    login_form = OperatorLoginForm
