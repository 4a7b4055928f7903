"""Settings of the scale benchmarks: dev settings, DEBUG off (no query log), and
the throwaway bench_scale_app when BENCH_EXTRA_MODELS > 0."""

import os

from portal.settings.dev import *  # noqa: F401,F403
from portal.settings.dev import INSTALLED_APPS, LOGGING, TENANT_APPS

DEBUG = False
LOGGING["root"]["level"] = "ERROR"
if int(os.environ.get("BENCH_EXTRA_MODELS", "0")) > 0:
    TENANT_APPS = [*TENANT_APPS, "bench_scale_app"]
    INSTALLED_APPS = [*INSTALLED_APPS, "bench_scale_app"]
