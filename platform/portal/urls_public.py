"""The platform's own site (public schema): list of towns, operator console, health."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts.admin_site import OperatorAdminSite
from core import views
from core.access import OPERATOR_ONLY, PUBLIC, declare

# Operators sign in to the admin with their password AND a TOTP code
# (docs/decisions/0400-django-otp.md); `manage.py enroll_totp` enrols them.
admin.site.__class__ = OperatorAdminSite
# The operator console (Django's admin, tenants/admin.py): its sign-in page is
# public, everything else is for operators (admin_view: staff account + TOTP).
declare("admin:login", PUBLIC, methods=("get", "post"))
declare("admin:logout", PUBLIC, operator="method")  # POST only; anonymous: back to /admin/
# Towns are created by onboarding and never deleted here; config versions and
# failed tasks are records: no add/delete, even for operators.
for model in ("commune", "configversion", "failedtask"):
    declare(f"admin:tenants_{model}_add", OPERATOR_ONLY, operator="forbidden")
for model in ("commune", "configversion"):
    declare(f"admin:tenants_{model}_delete", OPERATOR_ONLY, operator="forbidden")
declare("admin:autocomplete", OPERATOR_ONLY, operator="forbidden")  # 403 without its parameters
declare("admin:view_on_site", OPERATOR_ONLY, operator="not_found")  # accounts have no public page
declare("admin:tenants_commune_invite", OPERATOR_ONLY, pk="commune")
declare("admin:tenants_commune_yaml", OPERATOR_ONLY, pk="commune")
declare("admin:tenants_commune_export", OPERATOR_ONLY, methods=("get", "post"), pk="commune")
# families from the town's previous portal: the form and dry run, the real run
# (POST only), the last run's block polled by htmx
declare("admin:tenants_commune_import", OPERATOR_ONLY, methods=("get", "post"), pk="commune")
declare("admin:tenants_commune_import_apply", OPERATOR_ONLY, methods=("post",), pk="commune")
declare("admin:tenants_commune_import_progress", OPERATOR_ONLY, pk="commune")
# an archive that does not exist (the matrix's example ids): 404 for the operator
declare(
    "admin:tenants_commune_export_download",
    OPERATOR_ONLY,
    operator="not_found",
    pk="commune",
    export_pk="commune",
)
declare("admin:otp_totp_totpdevice_*", OPERATOR_ONLY, pk="operator_device")
declare("admin:*", OPERATOR_ONLY)

urlpatterns = [
    path("", views.platform_home, name="platform-home"),
    path("health/", views.health, name="health"),
    path("health/live/", views.health_live, name="health-live"),
    path("health/ready/", views.health_ready, name="health-ready"),
    path("metrics", views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
]
if settings.PAYMENT_SIMULATOR:  # DEMO ONLY (platform/paysim); prod.py refuses it
    urlpatterns.append(path("simulateur-paiement/", include("paysim.urls")))
if settings.IDENTITY_SIMULATOR:  # DEMO ONLY (platform/idsim); prod.py refuses it
    urlpatterns.append(path("simulateur-franceconnect/", include("idsim.urls")))

# French pages in the town's style; problem documents under /api/ (core.error_pages).
handler400 = "core.error_pages.bad_request"
handler403 = "core.error_pages.permission_denied"
handler404 = "core.error_pages.not_found"
handler500 = "core.error_pages.server_error"
