from celery import signals
from django.apps import AppConfig
from django.db import connection


def _record_failed_task(sender=None, task_id=None, exception=None, **kwargs):
    """Celery task_failure -> a FailedTask row (public schema) for the console."""

    # Django's app loading: apps.py is imported before the models, so imported when called.
    from tenants.models import FailedTask

    schema = getattr(connection, "schema_name", "public")
    previous = getattr(connection, "tenant", None)
    try:
        connection.set_schema_to_public()
        FailedTask.objects.create(
            task_name=getattr(sender, "name", str(sender))[:200],
            schema_name=schema,
            task_id=str(task_id or "")[:64],
            exception=repr(exception)[:2000],
        )
    except Exception:  # noqa: BLE001 — never let bookkeeping hide the task's own failure
        pass
    finally:
        # Other task_failure receivers (core.metrics) still read the task's town.
        if previous is not None and schema != "public":
            connection.set_tenant(previous)


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Communes"

    def ready(self):
        signals.task_failure.connect(_record_failed_task, dispatch_uid="tenants_failed_task")
