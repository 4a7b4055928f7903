"""Production: everything secret or host-specific comes from the environment.

`manage.py check --deploy --fail-level WARNING` passes with these settings
(tests/test_deploy_settings.py). docs/deploy.md lists every variable.
"""

import os

from django.core.exceptions import ImproperlyConfigured

# Checked BEFORE base is imported: without DATABASE_URL, base would start the
# embedded development PostgreSQL, which has no place in production.
if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("DATABASE_URL est obligatoire en production (portal.settings.prod).")

from .base import *  # noqa: E402,F401,F403
from .base import (  # noqa: E402
    DATABASES,
    KNOWN_SECRET_KEY_DEFAULT,
    KNOWN_VAULT_MASTER_KEY_DEFAULT,
    LOGGING,
    REDIS_URL,
    STORAGES,
    env,
)

DEBUG = False


def _required_secret(name: str, *, min_length: int, known: tuple[str, ...] = ()) -> str:
    """A secret production must be given, never a value published in the repository.
    The message names the variable, in French and English (operators read both)."""
    value = env(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"{name} est obligatoire en production (portal.settings.prod) / "
            f"{name} is required in production. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if value in known or "change-me" in value or len(value) < min_length:
        raise ImproperlyConfigured(
            f"{name} : valeur publiée ou trop courte, refusée en production "
            f"({min_length} caractères au moins) / {name} is a known default or too short, "
            f"refused in production (at least {min_length} characters)."
        )
    return value


SECRET_KEY = _required_secret("SECRET_KEY", min_length=50, known=(KNOWN_SECRET_KEY_DEFAULT,))
# The vault's master keys (documents/vault.py): losing them loses every vault.
VAULT_MASTER_KEY = _required_secret(
    "VAULT_MASTER_KEY", min_length=32, known=(KNOWN_VAULT_MASTER_KEY_DEFAULT,)
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
if env("POD_IP", default=""):
    # Kubernetes: Prometheus scrapes http://<pod IP>:8000/metrics with that Host.
    ALLOWED_HOSTS.append(env("POD_IP"))
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS: TLS ends at nginx / the ingress, which sets X-Forwarded-Proto ----
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Probes (kubelet, load balancers) and Prometheus talk plain HTTP to the pod.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = 31536000  # one year (shared/security.md)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# --- Database: persistent connections, checked before reuse ----------------
# Behind PgBouncer use SESSION pooling only: django-tenants sets search_path
# per connection, which transaction pooling would hand to another client.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- Static files: hashed names, compressed, served by nginx or WhiteNoise --
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
STATIC_ROOT = env("STATIC_ROOT", default=str(STATIC_ROOT))  # noqa: F405

# --- Mail: a real SMTP relay unless told otherwise --------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)

# --- Celery: a broker is mandatory; never run tasks inside a web request ----
CELERY_TASK_ALWAYS_EAGER = False
# Redis hands an unacknowledged task to another worker after this delay: it
# must exceed every countdown, including core.tasks.dispatch_to_towns' window.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 3600)
}
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_WORKER_SEND_TASK_EVENTS = env.bool("CELERY_WORKER_SEND_TASK_EVENTS", default=False)

# --- /metrics: a bearer token when set (Prometheus' `authorization` block) ---
METRICS_TOKEN = env("METRICS_TOKEN", default="")

if not REDIS_URL:
    # Without Redis the cache is per process and tasks have no broker.
    raise ImproperlyConfigured("REDIS_URL est obligatoire en production (portal.settings.prod).")

LOGGING["root"]["level"] = env("LOG_LEVEL", default="INFO")

# Billing: no demo payment page, no test-mode payment, ever in production.
BILLING_DEMO_PAYMENT_PAGE = False
BILLING_ACCEPT_TEST_PAYMENTS = False
# Nor the payment-provider simulator (platform/paysim): asking for it is an error.
if env.bool("PAYMENT_SIMULATOR", default=False):
    raise ImproperlyConfigured(
        "PAYMENT_SIMULATOR est réservé à la démonstration : le simulateur de paiement "
        "n'est jamais servi en production (portal.settings.prod)."
    )
PAYMENT_SIMULATOR = False
# Nor the FranceConnect / API Particulier stand-ins (platform/idsim).
if env.bool("IDENTITY_SIMULATOR", default=False):
    raise ImproperlyConfigured(
        "IDENTITY_SIMULATOR est réservé à la démonstration : les simulateurs FranceConnect "
        "et API Particulier ne sont jamais servis en production (portal.settings.prod)."
    )
IDENTITY_SIMULATOR = False
