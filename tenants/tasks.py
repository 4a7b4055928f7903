"""The operator console's long jobs, run by the Celery worker (in-process when
no broker is configured, CELERY_TASK_ALWAYS_EAGER)."""

from celery import shared_task

from tenants.pool import fill_pool
from tenants.town_export import run_export


@shared_task(ignore_result=True)
def export_town_task(export_id: int) -> None:
    run_export(export_id)


@shared_task(ignore_result=True)
def fill_town_pool() -> dict:
    """Keep the pool of prepared town schemas full (beat, every minute;
    tenants/pool.py). Runs in the public schema."""

    return fill_pool()
