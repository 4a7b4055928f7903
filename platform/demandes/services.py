"""Write path of requests. Each function is one use case, in one transaction."""
from __future__ import annotations

from django.db import transaction

from demandes.models import Demande, DemandeEvent


@transaction.atomic
def submit_demande(
    *, kind: str, subject: str, submitted_by, household=None, child=None,
    payload: dict | None = None, service_area: str = "general", message: str = "",
) -> Demande:
    demande = Demande.objects.create(
        kind=kind, subject=subject, household=household, child=child,
        payload=payload or {}, service_area=service_area, submitted_by=submitted_by,
        status=Demande.Status.SUBMITTED,
    )
    DemandeEvent.objects.create(
        demande=demande, actor=submitted_by, to_status=Demande.Status.SUBMITTED, message=message
    )
    return demande
