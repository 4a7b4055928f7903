"""Test settings: real PostgreSQL (DATABASE_URL or embedded), real Redis when REDIS_URL is set."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in-process unless a test starts a real worker (tests/test_celery.py).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
TOWN_LOOKUP_TTL = 0.0  # tests create and suspend towns: never trust a stale lookup
LOG_LEVEL = env("LOG_LEVEL", default="WARNING")
LOGGING["root"]["level"] = LOG_LEVEL  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The demo's payment-provider simulator is tested (platform/paysim/tests).
PAYMENT_SIMULATOR = env.bool("PAYMENT_SIMULATOR", default=True)
# No pool of prepared town schemas unless a test fills one (tenants/tests/test_pool.py):
# towns are created from the template, as the template's tests expect.
TOWN_POOL_SIZE = 0
# The sign-in gate counts every sign-in of the machine in one Redis key: off
# unless a test turns it on (platform/accounts/tests/test_signin_gate.py).
SIGNIN_GATE = env.bool("SIGNIN_GATE", default=False)
