"""The towns, seen from the kernel: django-tenants' tenant model (settings.TENANT_MODEL,
tenants.Commune) reached through `get_tenant_model()`, so no platform package
imports `tenants` (the town configuration layer sits above them: docs/architecture.md).
"""

from __future__ import annotations

from django.db import connection
from django.dispatch import Signal
from django_tenants.utils import get_public_schema_name, get_tenant_model


def all_towns():
    """Every town, suspended ones included (public schema), by slug."""
    return get_tenant_model().objects.exclude(schema_name=get_public_schema_name()).order_by("slug")


def active_towns():
    """Every active town (public schema), by slug: what per-town jobs walk."""
    town = get_tenant_model()
    return (
        town.objects.exclude(schema_name=get_public_schema_name())
        .filter(status=town.Status.ACTIVE)
        .order_by("slug")
    )


def current_town():
    """The town of the connection's schema as a full row (schema_context() sets
    a bare stand-in without the town's fields), None in the public schema."""

    tenant = getattr(connection, "tenant", None)
    if hasattr(tenant, "enabled_modules"):
        return tenant
    schema = getattr(connection, "schema_name", get_public_schema_name())
    if schema == get_public_schema_name():
        return None
    return get_tenant_model().objects.filter(schema_name=schema).first()


def config_of_schema(schema: str) -> dict:
    """A town's validated configuration from its schema name ({} when unknown)."""
    town = get_tenant_model()
    return town.objects.filter(schema_name=schema).values_list("config", flat=True).first() or {}


# Sent (no arguments) after a town is created, renamed, suspended or given new
# paths; the routing cache (portal.routing.towns) listens and forgets its lookups.
towns_changed = Signal()
