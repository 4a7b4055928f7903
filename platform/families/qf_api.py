"""The quotient familial fetched from the CAF or the MSA (write path).

The consent is recorded first (who, when, the exact words), then API
Particulier is asked; only the QF, its source, its month and the date it was
fetched are kept, applied through the town's change policy
(`quotient_familial_api`: direct by default, or a request staff validate),
so billing's next invoice uses it.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from families import api_particulier, services
from families.models import Adult, Household, QFConsent

SOURCES = {"CAF": Household.QFSource.API_CAF, "MSA": Household.QFSource.API_MSA}


def record_consent(*, adult: Adult, identity: api_particulier.Identity | None = None) -> QFConsent:
    """A new consent replaces the household's previous one."""
    withdraw_consent(household=adult.household)
    return QFConsent.objects.create(
        household=adult.household,
        adult=adult,
        text=QFConsent.TEXT,
        identity=_identity_json(identity) if identity else {},
    )


def _identity_json(identity: api_particulier.Identity) -> dict:
    return {
        "birth_name": identity.birth_name,
        "first_names": list(identity.first_names),
        "sex": identity.sex,
        "birth_date": identity.birth_date.isoformat(),
        "birth_country": identity.birth_country,
        "birth_commune": identity.birth_commune,
    }


def _identity(data: dict) -> api_particulier.Identity:
    return api_particulier.Identity(
        birth_name=data["birth_name"],
        first_names=tuple(data["first_names"]),
        sex=data["sex"],
        birth_date=date.fromisoformat(data["birth_date"]),
        birth_country=data.get("birth_country") or api_particulier.FRANCE,
        birth_commune=data.get("birth_commune", ""),
    )


def current_consent(household: Household) -> QFConsent | None:
    return household.qf_consents.filter(withdrawn_at__isnull=True).first()


def withdraw_consent(*, household: Household) -> int:
    return household.qf_consents.filter(withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now(), identity={}
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


def refresh_town(*, commune) -> dict:
    """The town's opt-in periodic refresh (`api_particulier.refresh: true`):
    asks again only for households whose consent is still valid. Each
    household's failure is counted, never raised (the manual path stays)."""
    api = api_particulier.town_api(commune)
    counts = {"asked": 0, "updated": 0, "failed": 0}
    if api is None:
        return counts
    consents = QFConsent.objects.filter(withdrawn_at__isnull=True).select_related(
        "adult__household"
    )
    for consent in consents:
        if not consent.identity or consent.adult.household_id != consent.household_id:
            continue
        counts["asked"] += 1
        try:
            fetch_and_apply(api=api, adult=consent.adult, identity=_identity(consent.identity))
        except (api_particulier.APIParticulierError, ValidationError, KeyError, ValueError):
            counts["failed"] += 1
        else:
            counts["updated"] += 1
    return counts
