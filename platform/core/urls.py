"""Reverse URLs of a town outside a request (Celery tasks, e-mails, PDFs)."""

from __future__ import annotations

from django.conf import settings
from django.urls import get_script_prefix, reverse


def tenant_reverse(
    commune, viewname: str, *, args=None, kwargs=None, absolute: bool = False
) -> str:
    """`tenant_reverse(castres, "core:home")` -> "/castres/" (or SITE_URL + it)."""
    path = reverse(viewname, urlconf=settings.TENANT_URLCONF, args=args, kwargs=kwargs)
    prefix = get_script_prefix()  # "/" outside a request; "/<slug>/" inside one
    path = f"/{commune.slug}/{path[len(prefix) :]}"
    return f"{settings.SITE_URL}{path}" if absolute else path
