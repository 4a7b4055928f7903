"""Family jobs, run by the Celery worker in the town's schema (the task
carries the schema it was sent from: tenant-schemas-celery).
- `import_families_task`: a staged import of a previous portal's files;
- `refresh_qf_for_town`, monthly, sent by the platform's one dispatcher
  (core.tasks.dispatch_to_towns) from FamiliesConfig.periodic_jobs to the towns
  with `api_particulier.refresh: true`: the quotient familial asked again of the
  CAF/MSA for the households whose consent is still valid
  (families.qf_api.refresh_town).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection

from families import qf_api
from families.imports import run_staged_import

log = logging.getLogger(__name__)

REFRESH_TASK = "families.tasks.refresh_qf_for_town"


@shared_task(ignore_result=True)
def import_families_task(run_id: int, stage_id: str) -> None:
    run_staged_import(run_id, stage_id)


@shared_task(name=REFRESH_TASK, acks_late=True)
def refresh_qf_for_town() -> dict:
    counts = qf_api.refresh_town(commune=connection.tenant)
    log.info("qf refresh", extra=counts)
    return counts
