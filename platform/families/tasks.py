"""Long family jobs, run by the Celery worker in the town's schema (the task
carries the schema it was sent from: tenant-schemas-celery)."""

from celery import shared_task


@shared_task(ignore_result=True)
def import_families_task(run_id: int, stage_id: str) -> None:
    from families.imports import run_staged_import

    run_staged_import(run_id, stage_id)
