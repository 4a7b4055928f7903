"""Which changes a family makes directly and which need a staff validation.
PURE functions (no ORM, no request): the town's settings come in as a dict.

A town sets `family_changes` in tenant_configs/<slug>.yaml; what it does not
set keeps the defaults below.
"""

from __future__ import annotations

from collections.abc import Mapping

DIRECT = "direct"
VALIDATION = "validation"

DEFAULT_POLICY: dict[str, str] = {
    # Contact details and address: every guide lets families update them online
    # ("Coordonnées : mettre à jour mes coordonnées").
    "contacts": DIRECT,
    "address": DIRECT,
    # Chalonnes-sur-Loire's guide: families may ADD entourage members...
    "entourage_add": DIRECT,
    # ...but not remove them (a request to the services): Chalonnes sets
    # `entourage_remove: validation`; other guides are silent, so direct.
    "entourage_remove": DIRECT,
    # Bondoufle: "effectuez vos mises à jour en ligne (allergies, autorisations)".
    "health_sheet": DIRECT,
    # The quotient familial sets the tariff: staff check the CAF/MSA attestation.
    "quotient_familial": VALIDATION,
    # The QF the CAF/MSA gave through API Particulier (with consent) is the
    # attestation itself: applied at once unless the town asks to validate it.
    "quotient_familial_api": DIRECT,
    # A new child needs the livret de famille / proof of parental authority (Donges).
    "child_add": VALIDATION,
}
CHANGES = tuple(DEFAULT_POLICY)


def change_mode(change: str, town_settings: Mapping[str, str] | None) -> str:
    """'direct' or 'validation' for `change` in a town with these settings."""
    if change not in DEFAULT_POLICY:
        raise KeyError(change)
    mode = (town_settings or {}).get(change, DEFAULT_POLICY[change])
    return mode if mode in (DIRECT, VALIDATION) else VALIDATION  # unknown: the safe side
