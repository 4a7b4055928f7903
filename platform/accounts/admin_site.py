"""The platform's admin (public schema, /admin/): operators only, password AND
TOTP code (django-otp's OTPAdminSite)."""

from django_otp.admin import OTPAdminSite


class OperatorAdminSite(OTPAdminSite):
    site_header = "Guichet Famille — administration de la plateforme"
    site_title = "Guichet Famille"
