"""Field validators with French messages, shared by forms, serializers and models."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_PHONE_SEPARATORS = re.compile(r"[\s.\-]")
_FRENCH_PHONE = re.compile(r"^(?:\+33|0)([1-9]\d{8})$")
_POSTCODE = re.compile(r"^\d{5}$")
# CAF numbers are 7 digits (sometimes written with a key letter); MSA numbers
# are up to 13 characters. Anything else is a typing error.
_ALLOCATAIRE = re.compile(r"^[0-9A-Za-z]{4,13}$")


def normalize_phone(value: str) -> str:
    """'0612345678', '06.12.34.56.78', '+33612345678' -> '06 12 34 56 78'.

    Raises ValidationError (French) for anything that is not a French number.
    """
    compact = _PHONE_SEPARATORS.sub("", value or "")
    match = _FRENCH_PHONE.match(compact)
    if not match:
        raise ValidationError(
            "Numéro de téléphone invalide : saisissez 10 chiffres (ex. 06 12 34 56 78).",
            code="phone",
        )
    digits = "0" + match.group(1)
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def validate_phone(value: str) -> None:
    if value:
        normalize_phone(value)


def validate_postcode(value: str) -> None:
    if value and not _POSTCODE.match(value):
        raise ValidationError("Le code postal doit comporter 5 chiffres.", code="postcode")


def validate_allocataire_number(value: str) -> None:
    if value and not _ALLOCATAIRE.match(value):
        raise ValidationError(
            "Numéro d'allocataire invalide : de 4 à 13 chiffres ou lettres, sans espace.",
            code="allocataire",
        )


# --- cross-field checks, shared by forms (families.forms) and serializers ----


def check_quotient_familial(data: dict, *, today) -> None:
    errors = {}
    qf_date = data.get("qf_date")
    if qf_date and qf_date > today:
        errors["qf_date"] = "La date du justificatif ne peut pas être dans le futur."
    regime = data.get("allocataire_regime")
    if regime in ("caf", "msa") and not data.get("allocataire_number"):
        errors["allocataire_number"] = "Indiquez votre numéro d'allocataire CAF ou MSA."
    if regime == "none" and data.get("qf_source") in ("caf", "msa"):
        errors["qf_source"] = (
            "Sans numéro d'allocataire, le quotient est calculé par la mairie sur l'avis "
            "d'imposition."
        )
    if errors:
        raise ValidationError(errors)


def check_child(data: dict, *, today) -> None:
    birth = data.get("birth_date")
    if birth and birth > today:
        raise ValidationError(
            {"birth_date": "La date de naissance ne peut pas être dans le futur."}
        )
    if birth and (today.year - birth.year) > 18:
        raise ValidationError(
            {"birth_date": "Le portail famille concerne les enfants de moins de 18 ans."}
        )


def check_entourage(data: dict) -> None:
    if not data.get("can_pick_up") and not data.get("emergency_contact"):
        raise ValidationError(
            "Cochez au moins un rôle : venir chercher l'enfant ou être prévenu en cas d'urgence."
        )
