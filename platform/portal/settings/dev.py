"""Local development and the `make run` demo."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# The demo's payment-provider simulator (platform/paysim; never in production).
PAYMENT_SIMULATOR = env.bool("PAYMENT_SIMULATOR", default=True)
# The demo's FranceConnect and API Particulier stand-ins (platform/idsim), served
# by the demo server itself: the towns' integration/staging endpoints point there.
IDENTITY_SIMULATOR = env.bool("IDENTITY_SIMULATOR", default=True)
if IDENTITY_SIMULATOR:
    _SIM = f"http://127.0.0.1:{env('PORT', default='8000')}/simulateur-franceconnect"
    FRANCECONNECT_ISSUERS["integration"] = _SIM  # noqa: F405
    API_PARTICULIER_URLS["staging"] = _SIM + "/api-particulier"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
