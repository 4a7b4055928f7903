"""Celery tasks: thin wrappers around services. Per-town jobs are sent by ONE
dispatcher (beat runs it in the public schema) that sends one task per active
town; tenant-schemas-celery runs each in its town's schema."""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.towns import active_towns
from documents.personal_data import erase_household, purge_inactive_households, retentions
from documents.selectors import family_emails
from documents.services import send_expiry_reminders as run
from families.models import Household
from notifications.outbox import queue_mail

log = logging.getLogger(__name__)


def _for_each_town(task) -> int:
    connection.set_schema_to_public()
    towns = list(active_towns())
    for commune in towns:
        with tenant_context(commune):
            task.delay()
    connection.set_schema_to_public()
    return len(towns)


@shared_task
def dispatch_expiry_reminders() -> int:
    return _for_each_town(send_expiry_reminders)


@shared_task
def send_expiry_reminders() -> int:
    return run()


@shared_task
def dispatch_retention_purge() -> int:
    return _for_each_town(purge_inactive_families)


@shared_task
def purge_inactive_families() -> list[int]:
    return purge_inactive_households(commune=connection.tenant)


@shared_task
def erase_household_task(household_id: int, demande_id: int | None, actor_id: int | None) -> dict:
    """An accepted erasure request (demandes kind "erasure")."""

    household = Household.objects.filter(pk=household_id).first()
    if household is None:
        return {}
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    emails = family_emails(household)  # read before the addresses are erased
    report = erase_household(
        household=household, actor=actor, reason=f"Demande d'effacement n° {demande_id}"
    )
    if emails:
        kept = sorted({r.reason for label, r in retentions().items() if label in report.kept})
        queue_mail(
            to=emails,
            subject="Vos données ont été effacées",
            template="documents/email/erased.txt",
            context={"commune": connection.tenant, "today": timezone.localdate(), "kept": kept},
        )
    return {"deleted": report.deleted, "kept": report.kept}
