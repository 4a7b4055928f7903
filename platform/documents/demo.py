"""Demo supporting documents and a private-vault item for the demo families of
a town (fictitious files; run inside its schema by `manage.py rundemo`, after
the families' demo data). README's Martin family is always among them.
Idempotent: households that already have documents (a vault item) are left alone."""

from __future__ import annotations

import datetime as dt
import io

from django.db import transaction
from django.utils import timezone

from documents import services
from documents.editions import simple_pdf
from documents.models import Document, VaultItem
from families.demo import MARTIN, demo_households
from families.models import Household

DEMO = "Document de démonstration : contenu fictif."


class _Upload(io.BytesIO):
    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name, self.size = name, len(data)


@transaction.atomic
def load(commune, *, households: int = 2) -> int:
    today = timezone.localdate()
    created = 0
    chosen = [h for h in demo_households() if h.name == MARTIN]
    chosen += [h for h in demo_households() if h.name != MARTIN][: max(households - len(chosen), 0)]
    chosen = chosen or list(Household.objects.order_by("pk")[:households])
    for household in chosen:
        if not VaultItem.objects.filter(household=household).exists():
            title = "Copie du livret de famille"
            services.vault_store(
                household=household,
                uploaded_file=_Upload(simple_pdf(title, [DEMO]), "livret-de-famille.pdf"),
                title=title,
            )
        if Document.objects.filter(household=household).exists():
            continue
        adult = household.adults.exclude(user=None).select_related("user").first()
        user = adult.user if adult else None
        child = household.children.first()
        specs = [
            (
                "carnet_vaccination",
                f"Carnet de vaccination{f' de {child.first_name}' if child else ''}",
                None,
                child,
            ),
            ("justificatif_domicile", "Facture d'électricité", today - dt.timedelta(days=20), None),
            (
                "attestation_caf",
                "Attestation de quotient familial CAF",
                today - dt.timedelta(days=340),
                None,
            ),
        ]
        for kind, title, issued_on, about in specs:
            services.upload_document(
                household=household,
                uploaded_by=user,
                kind=kind,
                title=title,
                child=about,
                issued_on=issued_on,
                uploaded_file=_Upload(simple_pdf(title, [DEMO]), "demo.pdf"),
            )
            created += 1
        Document.objects.filter(household=household, kind="justificatif_domicile").update(
            status=Document.Status.VALID, reviewed_at=timezone.now()
        )
    return created
