"""Settings shared by every environment. The environment is read here, once.

Per-environment files (dev, test, prod) only override; see docs/operations.md
for every variable.
"""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE

PLATFORM_DIR = Path(__file__).resolve().parents[2]  # platform/ (a source root)
BASE_DIR = PLATFORM_DIR.parent  # repository root

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Tests only: a test session with a moved clock (tests/clock.py, `pytest --clock`)
# hands its shift to the processes it starts (gunicorn, Celery worker, manage.py),
# whatever their settings. time-machine is a dev dependency; never set in production.
if env("GUICHET_TEST_CLOCK_SHIFT", default=""):
    import datetime as _dt

    import time_machine as _time_machine

    _moved = _dt.datetime.now(_dt.UTC) + _dt.timedelta(
        seconds=env.float("GUICHET_TEST_CLOCK_SHIFT")
    )
    _time_machine.travel(_moved, tick=True).start()

# Development defaults: prod.py refuses them (and any value containing "change-me").
KNOWN_SECRET_KEY_DEFAULT = "dev-insecure-change-me-" + "x" * 40
KNOWN_VAULT_MASTER_KEY_DEFAULT = "dev-only-vault-master-key-change-me-in-production"
SECRET_KEY = env("SECRET_KEY", default=KNOWN_SECRET_KEY_DEFAULT)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
# Absolute base used for links written outside a request (e-mails, PDFs); the
# demo's default follows the port it serves on (`PORT=8080 make run`).
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{env('PORT', default='8000')}").rstrip("/")

# --- Apps -----------------------------------------------------------------
# SHARED_APPS live in the public schema (which towns exist, operators);
# TENANT_APPS are created in every town's schema. See docs/architecture.md.
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.forms",  # Django's widget templates, read by core.ui_forms (FORM_RENDERER)
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served by us: the CSP allows no CDN
    "django_htmx",
    "django_prometheus",
    "csp",
    "accounts",
    # Second factor for operators (public admin) and town staff: docs/decisions/0400.
    "django_otp",
    "django_otp.plugins.otp_totp",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "accounts",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "core",
    "families",
    "demandes",
    "booking",
    "notifications",
    "audit",
    "simple_history",  # versions of the public space's contents (docs/decisions/1003)
    "content",
    "documents",
    "backoffice",  # /<slug>/gestion/: the town's back-office (docs/decisions/1000)
    # Service modules: discovered by core.modules from their AppConfig.
    "modules.periscolaire",
    "modules.alsh",
    "modules.petite_enfance",
    "modules.billing",
]
INSTALLED_APPS = SHARED_APPS + [a for a in TENANT_APPS if a not in SHARED_APPS]

TENANT_MODEL = "tenants.Commune"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# accounts' activation keys point at families.Adult, so they exist only in
# town schemas (accounts.routers answers first; django-tenants' router decides the rest).
DATABASE_ROUTERS = [
    "accounts.routers.TownOnlyModelsRouter",
    "django_tenants.routers.TenantSyncRouter",
]
# Set the schema search_path once per town switch instead of before every query
# (halves the round trips: bench/opening_rush.py, docs/decisions/0803).
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "portal.urls_public"
TENANT_URLCONF = "portal.urls_tenant"
ROOT_URLCONF = TENANT_URLCONF
# How long a process trusts its slug -> town lookup (suspension, new towns).
TOWN_LOOKUP_TTL = env.float("TOWN_LOOKUP_TTL", default=5.0)

AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    # First and last: request counts and latencies for /metrics (docs/decisions/0300).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Must run before sessions and auth: they live in the town's schema.
    "portal.routing.TownRoutingMiddleware",
    "core.middleware.RejectNulBytesMiddleware",
    # Response side runs after sessions and CSRF: scopes their cookies to /<slug>/.
    "accounts.middleware.TownCookiePathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Names the signed-in author on every content version (simple_history).
    "simple_history.middleware.HistoryRequestMiddleware",
    # Staff and operator sessions reach nothing but the second-factor pages until verified.
    "accounts.middleware.SecondFactorMiddleware",
    # Pages seen by a signed-in user are never stored by browsers or proxies.
    "core.cache_headers.PrivatePagesNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.routing.ModuleGateMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PLATFORM_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.town",
            ],
        },
    }
]

# Every form wears the design system's classes (docs/design-system.md).
FORM_RENDERER = "core.ui_forms.UIFormRenderer"
# A refused CSRF check: a French page (403) in the town's style.
CSRF_FAILURE_VIEW = "core.error_pages.csrf_failure"

WSGI_APPLICATION = "portal.wsgi.application"

# --- Database -------------------------------------------------------------
# DATABASE_URL unset -> an embedded PostgreSQL from pip (portal.embedded_db),
# so `make run` works on a machine with no PostgreSQL server.
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from portal.embedded_db import embedded_database_url

    _pgdata = Path(env("EMBEDDED_PGDATA", default=str(BASE_DIR / ".pgdata")))
    DATABASES = {"default": env.db_url_config(embedded_database_url(_pgdata))}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (keys prefixed per town) and Redis -----------------------------
REDIS_URL = env("REDIS_URL", default="")
# The waiting room of an opening (booking.waiting_room): its Redis (default
# REDIS_URL) and how many bookings the web tier serves at once (its workers):
# admission rate = this / the measured service time, capped per period.
WAITING_ROOM_REDIS_URL = env("WAITING_ROOM_REDIS_URL", default="")
WAITING_ROOM_CONCURRENCY = env.int("WAITING_ROOM_CONCURRENCY", default=4)
# Admission also waits while more than WAITING_ROOM_WINDOW households (0: 8 x the
# concurrency) admitted in the last WAITING_ROOM_RECENT_SECONDS are not served yet.
WAITING_ROOM_WINDOW = env.int("WAITING_ROOM_WINDOW", default=0)
WAITING_ROOM_RECENT_SECONDS = env.int("WAITING_ROOM_RECENT_SECONDS", default=30)
# Sign-ins admitted at the rate the server hashes passwords (accounts.signin_gate):
# rate = SIGNIN_GATE_CORES (0: half the machine's) / measured hash time, with
# SIGNIN_GATE_BURST (0: as many as the cores) at the same instant. The hasher
# itself is never weakened.
SIGNIN_GATE = env.bool("SIGNIN_GATE", default=True)
SIGNIN_GATE_CORES = env.int("SIGNIN_GATE_CORES", default=0)
SIGNIN_GATE_BURST = env.int("SIGNIN_GATE_BURST", default=0)
CACHES = {
    "default": {
        "BACKEND": (
            "django.core.cache.backends.redis.RedisCache"
            if REDIS_URL
            else "django.core.cache.backends.locmem.LocMemCache"
        ),
        "LOCATION": REDIS_URL or "guichet",
        # Every key carries the current schema: a town never reads another's
        # cache (django-tenants' tracker lists this leak).
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
# No broker configured -> run tasks in-process (demo on a bare machine).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Europe/Paris"
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "platform-heartbeat": {
        "task": "core.tasks.heartbeat",
        "schedule": env.float("HEARTBEAT_SECONDS", default=300.0),
    },
    # The apps' per-town jobs (AppConfig.periodic_jobs, e.g. billing's monthly
    # run) are added by portal.celery (core.scheduling.beat_entries).
    # Transactional outbox: re-sends e-mails whose immediate send was lost
    # (broker down at commit time). docs/decisions/0500-mail-outbox.md
    "notifications-flush-outboxes": {
        "task": "notifications.tasks.flush_outboxes",
        "schedule": 60.0,
    },
    # One dispatcher per job sends one task per town (tenant-schemas-celery).
    "documents-expiry-reminders": {
        "task": "documents.tasks.dispatch_expiry_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
    "personal-data-retention-purge": {
        "task": "documents.tasks.dispatch_retention_purge",
        "schedule": crontab(hour=3, minute=15),
    },
    # Prepared town schemas, so onboarding a town renames one (tenants/pool.py).
    "tenants-fill-town-pool": {
        "task": "tenants.tasks.fill_town_pool",
        "schedule": 60.0,
    },
    # Waiting-list offers past their time go to the next family (booking.tasks).
    "booking-expire-waiting-offers": {
        "task": "booking.tasks.expire_waiting_offers",
        "schedule": 300.0,
    },
}

# --- I18N: the product speaks French -------------------------------------
LANGUAGE_CODE = "fr-fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The design system (ui/ui.css, ui/ui.js): platform/portal/static.
STATICFILES_DIRS = [PLATFORM_DIR / "portal" / "static"]
# Prepared town schemas kept ready for onboarding (tenants/pool.py; 0: none).
TOWN_POOL_SIZE = env.int("TOWN_POOL_SIZE", default=5)
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Uploaded files are stored under MEDIA_ROOT/<schema>/ (one folder per town).
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
# Whole-town exports (tenants.town_export) and the files of a family import
# waiting between its dry run and the import (backoffice.import_views, a day at
# most). By default next to the towns' folders on the media volume (shared by
# every web pod and worker; MEDIA_ROOT is never served directly); `_` keeps
# them apart from any town's schema name.
TOWN_EXPORT_DIR = env("TOWN_EXPORT_DIR", default=str(Path(MEDIA_ROOT) / "_exports"))
IMPORT_STAGING_DIR = env("IMPORT_STAGING_DIR", default=str(Path(MEDIA_ROOT) / "_imports"))
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Auth -----------------------------------------------------------------
# CNIL deliberation 2022-100 and OWASP ASVS: length over composition, no
# composition rules, long passphrases accepted, common passwords refused.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "accounts.validators.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.validators.FrenchCommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "families:dashboard"
LOGOUT_REDIRECT_URL = "town-home"
PASSWORD_RESET_TIMEOUT = 60 * 60  # a reset link lives one hour
# accounts: activation keys ("clé Enfance", "code personnel") and e-mail links.
ACCOUNTS_ACTIVATION_KEY_DAYS = env.int("ACCOUNTS_ACTIVATION_KEY_DAYS", default=60)
ACCOUNTS_EMAIL_LINK_HOURS = env.int("ACCOUNTS_EMAIL_LINK_HOURS", default=72)
# Reverse proxies in front of the app whose X-Forwarded-For we trust (0: none).
ACCOUNTS_TRUSTED_PROXIES = env.int("ACCOUNTS_TRUSTED_PROXIES", default=0)


def _totp_issuer(device) -> str:
    """The name an authenticator app shows: the town's, so an agent of two
    towns tells their codes apart."""
    # Settings-time: the database layer is not imported while the settings load.
    from django.db import connection

    return f"Guichet Famille {getattr(connection.tenant, 'name', '')}".strip()


OTP_TOTP_ISSUER = _totp_issuer

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    # JSON bounded in size and depth, strict Unicode: a 400 in French, never a 500.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "core.api.problem_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Guichet Famille — API d'une commune",
    "DESCRIPTION": "API du portail famille d'une commune (préfixe /<commune>/api/).",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models name their choices `Status`: give each enum its own name.
    "ENUM_NAME_OVERRIDES": {
        "DemandeStatusEnum": "demandes.models.Demande.Status",
        "DocumentStatusEnum": "documents.models.Document.Status",
        "BookingStatusEnum": "booking.models.Booking.Status",
    },
}

# --- Mail -----------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL", default="Guichet Famille <ne-pas-repondre@guichet-famille.fr>"
)

# --- Security defaults (prod tightens) -------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Content-Security-Policy (django-csp), the same in every environment so
# that browser tests meet what production enforces (docs/decisions/0301).
# Scripts: our own files, or inline ones carrying `{{ request.csp_nonce }}`.
# No form-action: payment providers' FORM redirects (eopayment) post off-site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Logs: JSON lines carrying the town's slug -----------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"town": {"()": "core.logging.TownFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(town)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["town"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task run is noise at INFO (eager demo runs send hundreds).
        "celery.app.trace": {"level": "WARNING"},
    },
}

# --- Sentry (only when SENTRY_DSN is set) ----------------------------------
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,  # children's data: never sent to Sentry
    )

# --- Billing (modules/billing) ----------------------------------------------
# Below Redis' visibility timeout (prod.py: 4 h): a countdown must never exceed it.
BILLING_RUN_WINDOW_SECONDS = env.int("BILLING_RUN_WINDOW_SECONDS", default=3 * 3600)
# Test-mode payments (eopayment's dummy backend, PayZen TEST) move no money:
# accepted for the demo and tests only; prod.py refuses them.
BILLING_ACCEPT_TEST_PAYMENTS = env.bool("BILLING_ACCEPT_TEST_PAYMENTS", default=True)
# DEMO ONLY: our local stand-in for the dummy provider's page
# (modules/billing/fake_provider.py); prod.py switches it off.
BILLING_DEMO_PAYMENT_PAGE = env.bool("BILLING_DEMO_PAYMENT_PAGE", default=True)
# DEMO ONLY: the local payment-provider simulator at /simulateur-paiement/
# (platform/paysim): PayZen/Systempay and Paybox in their real protocols, demo
# keys. Off by default; dev.py (the demo) and test.py switch it on, prod.py refuses it.
PAYMENT_SIMULATOR = env.bool("PAYMENT_SIMULATOR", default=False)

# FranceConnect (docs/decisions/1600): each environment's issuer; a town's YAML
# (`franceconnect.environment`) picks one, its client id and its secret's variable.
FRANCECONNECT_ISSUERS = {
    "integration": env(
        "FRANCECONNECT_INTEGRATION_URL", default="https://fcp-low.sbx.dev-franceconnect.fr/api/v2"
    ),
    "production": env(
        "FRANCECONNECT_PRODUCTION_URL", default="https://oidc.franceconnect.gouv.fr/api/v2"
    ),
}
# API Particulier (quotient familial CAF & MSA): each environment's base URL; a
# town's YAML (`api_particulier.environment`) picks one.
API_PARTICULIER_URLS = {
    "staging": env(
        "API_PARTICULIER_STAGING_URL", default="https://staging.particulier.api.gouv.fr"
    ),
    "production": env("API_PARTICULIER_PRODUCTION_URL", default="https://particulier.api.gouv.fr"),
}
# DEMO ONLY: local stand-ins of FranceConnect and API Particulier at
# /simulateur-franceconnect/ (platform/idsim); prod.py refuses it.
IDENTITY_SIMULATOR = env.bool("IDENTITY_SIMULATOR", default=False)
# --- Documents, private vault, personal data (docs/decisions/0700-0703) -----
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
DOCUMENT_HOUSEHOLD_QUOTA_BYTES = env.int(
    "DOCUMENT_HOUSEHOLD_QUOTA_BYTES", default=200 * 1024 * 1024
)
VAULT_HOUSEHOLD_QUOTA_BYTES = env.int("VAULT_HOUSEHOLD_QUOTA_BYTES", default=100 * 1024 * 1024)
# Unix socket of a clamd daemon; empty = no antivirus scan.
CLAMD_SOCKET = env("CLAMD_SOCKET", default="")
# Master key of the private vault ("coffre-fort"): each family's key is derived
# from it (HKDF). Losing it loses every vault; `check --deploy` refuses the default.
VAULT_MASTER_KEY = env("VAULT_MASTER_KEY", default=KNOWN_VAULT_MASTER_KEY_DEFAULT)
# Key rotation (documents/vault.py, `manage.py rotate_vault_keys`): the id of the
# current master key, stored with every family key it wraps, and the retired
# keys still needed to read families not yet re-wrapped ("1=old-key,2=older").
VAULT_MASTER_KEY_ID = env("VAULT_MASTER_KEY_ID", default="1")
VAULT_RETIRED_MASTER_KEYS = env.dict("VAULT_RETIRED_MASTER_KEYS", default={})
# Families inactive this long are purged (a town may shorten/lengthen it in its YAML).
PERSONAL_DATA_RETENTION_YEARS = env.int("PERSONAL_DATA_RETENTION_YEARS", default=3)

# Where tenant_configs/*.yaml live (the operator's onboarding source).
TENANT_CONFIGS_DIR = Path(env("TENANT_CONFIGS_DIR", default=str(BASE_DIR / "tenant_configs")))

# First path segments that can never be a town's slug (public top-level paths).
RESERVED_SLUGS = [
    "admin",
    "api",
    "static",
    "media",
    "health",
    "metrics",
    "operateur",
    "operator",
    "accounts",
    "compte",
    "comptes",
    "communes",
    "public",
    "www",
    "robots.txt",
    "favicon.ico",
    "sitemap.xml",
    "security.txt",
    ".well-known",
    "simulateur-paiement",
    "simulateur-franceconnect",
    "__debug__",
    "login",
    "logout",
    "static-files",
    "docs",
    "aide",
    "status",
    "mentions-legales",
]
