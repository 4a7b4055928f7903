"""Password validators added to Django's (settings.AUTH_PASSWORD_VALIDATORS).

Django's CommonPasswordValidator holds 20,000 passwords, mostly English; the
ones French families actually pick (azerty..., soleil..., the town's name
followed by a year) are added here."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError

# Cheap cap against hashing megabytes (a denial of service); far above the
# 64 characters the CNIL asks us to accept.
MAX_PASSWORD_LENGTH = 1024

_FRENCH_COMMON = {
    "azerty",
    "azertyuiop",
    "azertyuiopqsdfghjklm",
    "qsdfghjklm",
    "wxcvbn",
    "motdepasse",
    "monmotdepasse",
    "soleil",
    "bonjour",
    "doudou",
    "chouchou",
    "loulou",
    "marseille",
    "paris",
    "toulouse",
    "nantes",
    "bordeaux",
    "castres",
    "bondoufle",
    "donges",
    "bassens",
    "chalonnes",
    "nicolas",
    "camille",
    "thomas",
    "julien",
    "jetaime",
    "princesse",
    "chocolat",
    "coucou",
    "doudoune",
    "famille",
    "mafamille",
    "mesenfants",
    "enfants",
    "guichetfamille",
    "espacefamille",
    "espacecitoyens",
    "portailfamille",
    "bienvenue",
    "vacances",
    "nounours",
    "football",
    "olympiquedemarseille",
    "parisiens",
    "liberte",
    "france",
}


def _skeleton(password: str) -> str:
    """Lowercase letters only, accents removed: 'Azerty2024!' -> 'azerty'."""
    decomposed = unicodedata.normalize("NFKD", password.lower())
    return re.sub(r"[^a-z]", "", "".join(c for c in decomposed if not unicodedata.combining(c)))


class FrenchCommonPasswordValidator:
    """Refuses a common French word padded with digits or symbols
    ('Soleil2024!!', 'azertyuiop123')."""

    def validate(self, password, user=None):
        skeleton = _skeleton(password)
        if skeleton in _FRENCH_COMMON or (skeleton and len(set(password.lower())) <= 3):
            raise ValidationError(
                "Ce mot de passe est trop courant : choisissez par exemple une phrase "
                "de plusieurs mots que vous retiendrez facilement.",
                code="password_too_common",
            )

    def get_help_text(self):
        return "Votre mot de passe ne peut pas être un mot de passe couramment utilisé."


class MaximumLengthValidator:
    def validate(self, password, user=None):
        if len(password) > MAX_PASSWORD_LENGTH:
            raise ValidationError(
                f"Ce mot de passe est trop long : {MAX_PASSWORD_LENGTH} caractères au maximum.",
                code="password_too_long",
            )

    def get_help_text(self):
        return f"Votre mot de passe peut contenir jusqu'à {MAX_PASSWORD_LENGTH} caractères."
