"""Local development and the `make run` demo."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# The demo's payment-provider simulator (platform/paysim; never in production).
PAYMENT_SIMULATOR = env.bool("PAYMENT_SIMULATOR", default=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
