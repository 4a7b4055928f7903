from celery import shared_task
from django.db import connection


@shared_task
def heartbeat() -> str:
    """Beat's liveness tick: proves beat -> broker -> worker works (read by health checks)."""
    from django.core.cache import cache
    from django.utils import timezone

    now = timezone.now().isoformat()
    cache.set("platform-heartbeat", now, timeout=None)
    return now


@shared_task
def describe_town() -> dict:
    """Runs in the schema of the town it was sent from (tenant-schemas-celery)."""
    from core.models import Service

    return {
        "schema": connection.schema_name,
        "services": sorted(Service.objects.values_list("code", flat=True)),
    }
