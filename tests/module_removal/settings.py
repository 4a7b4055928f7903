"""Test settings without one service module (GUICHET_WITHOUT_MODULE, e.g.
`modules.billing`): tests/test_module_removal.py runs the page smoke set
(tests/module_removal/test_smoke_pages.py) in a process with these settings, on
its own test database, to show that the platform needs no module."""

import os

from portal.settings.test import *  # noqa: F401,F403
from portal.settings.test import DATABASES, SHARED_APPS, TENANT_APPS

WITHOUT = os.environ["GUICHET_WITHOUT_MODULE"]
TENANT_APPS = [app for app in TENANT_APPS if app != WITHOUT]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
# Its own database (pytest-django prefixes test_): never the main session's.
_suffix = WITHOUT.rsplit(".", 1)[-1]
DATABASES = {
    **DATABASES,
    "default": {**DATABASES["default"], "NAME": f"{DATABASES['default']['NAME']}_sans_{_suffix}"},
}
