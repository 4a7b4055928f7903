"""Celery app. tenant-schemas-celery stamps each task with the schema it was
sent from (`_schema_name` header) and the worker runs it in that schema."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")

app = CeleryApp("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def add_periodic_jobs(sender, **kwargs):
    """Each app's per-town jobs (AppConfig.periodic_jobs, core.contributions):
    one beat entry per job, sent to the towns by core.tasks.dispatch_to_towns.
    Apps are loaded once the Celery app is finalized."""
    # Settings-time: this module loads with the settings, before Django's apps.
    from core.contributions import periodic_jobs
    from core.scheduling import beat_entries

    sender.conf.beat_schedule = {
        **beat_entries(periodic_jobs()),
        **(sender.conf.beat_schedule or {}),
    }
