"""The operator console's long jobs, run by the Celery worker (in-process when
no broker is configured, CELERY_TASK_ALWAYS_EAGER)."""

from celery import shared_task


@shared_task(ignore_result=True)
def export_town_task(export_id: int) -> None:
    from tenants.town_export import run_export

    run_export(export_id)
