"""Periodic work of the booking core."""

from celery import shared_task
from django.db import connection
from django_tenants.utils import tenant_context

from booking.invitations import invite_due
from booking.services import expire_offers
from core.towns import active_towns


@shared_task
def expire_waiting_offers() -> int:
    """Time-limited waiting-list offers past their time go to the next child
    (towns with `waiting_list.mode: offer`). One pass over the active towns;
    each town's work is small (an indexed scan of its offered entries)."""

    total = 0
    for commune in active_towns():
        with tenant_context(commune):
            total += expire_offers()
    connection.set_schema_to_public()
    return total


@shared_task(name="booking.tasks.invite_to_openings_for_town", acks_late=True)
def invite_to_openings_for_town() -> dict:
    """The current town's due opening invitations (booking.invitations); run
    in each town by the dispatcher (the booking core's periodic job)."""

    return invite_due()
