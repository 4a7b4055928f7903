"""The platform's admin (public schema, /admin/): operators only, password AND
TOTP code (django-otp's OTPAdminSite)."""

from functools import wraps

from django_otp.admin import OTPAdminSite
from django_tenants.postgresql_backend.base import FakeTenant
from django_tenants.utils import get_public_schema_name


class OperatorAdminSite(OTPAdminSite):
    site_header = "Guichet Famille — administration de la plateforme"
    site_title = "Guichet Famille"

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def with_public_tenant(request, *args, **kwargs):
            # portal.routing leaves request.tenant None on the platform's own
            # pages; django-tenants' admin templates read its schema_name.
            if getattr(request, "tenant", None) is None:
                request.tenant = FakeTenant(schema_name=get_public_schema_name())
            return inner(request, *args, **kwargs)

        return with_public_tenant
