"""The quotient familial fetched from the CAF or the MSA (write path).

The consent is recorded first (who, when, the exact words), then API
Particulier is asked; only the QF, its source, its month and the date it was
fetched are kept, applied through the town's change policy
(`quotient_familial_api`: direct by default, or a request staff validate),
so billing's next invoice uses it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from families import api_particulier, services
from families.models import Adult, Household, QFConsent

SOURCES = {"CAF": Household.QFSource.API_CAF, "MSA": Household.QFSource.API_MSA}


def record_consent(*, adult: Adult) -> QFConsent:
    return QFConsent.objects.create(household=adult.household, adult=adult, text=QFConsent.TEXT)


def current_consent(household: Household) -> QFConsent | None:
    return household.qf_consents.filter(withdrawn_at__isnull=True).first()


def withdraw_consent(*, household: Household) -> int:
    return household.qf_consents.filter(withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )


def fetch_and_apply(
    *, api: api_particulier.TownAPI, adult: Adult, identity: api_particulier.Identity
) -> services.ChangeOutcome:
    """Ask the CAF/MSA (consent already recorded) and apply the answer.
    Raises APIParticulierError (French message) when no QF came back."""
    if current_consent(adult.household) is None:
        raise ValidationError("Votre accord est nécessaire pour interroger la CAF ou la MSA.")
    result = api_particulier.fetch_quotient_familial(api, identity)
    payload = {
        "quotient_familial": result.value,
        "qf_source": SOURCES[result.provider],
        "qf_date": timezone.localdate(),
        "qf_reference_month": result.reference_month,
    }
    return services.request_change(adult=adult, change="quotient_familial_api", payload=payload)
