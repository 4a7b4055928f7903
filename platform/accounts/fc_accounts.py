"""Which account a FranceConnect identity signs in to (write path).

A `sub` already linked signs in to its account. An unknown `sub` never picks
an account by itself (not by e-mail, not by name): the person either proves
an existing account with its password, or creates a new account from the
identity, then attaches it to the household with the activation key as today.
Staff accounts are refused everywhere (password + TOTP only).
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import FranceConnectLink, User

STAFF_REFUSED = (
    "Les comptes des agents et des administrateurs ne peuvent pas utiliser FranceConnect : "
    "connectez-vous avec votre identifiant, votre mot de passe et votre code de sécurité."
)
INACTIVE = (
    "Ce compte n'est pas actif. Contactez la mairie, ou connectez-vous avec votre "
    "identifiant et votre mot de passe."
)


def account_for(sub: str) -> User | None:
    """The account linked to this identity, or None; refuses staff and
    inactive accounts with a French ValidationError."""
    link = FranceConnectLink.objects.select_related("user").filter(sub=sub).first()
    if link is None:
        return None
    user = link.user
    if user.needs_second_factor:
        raise ValidationError(STAFF_REFUSED)
    if not user.is_active:
        raise ValidationError(INACTIVE)
    FranceConnectLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    return user


@transaction.atomic
def link(*, user: User, sub: str) -> None:
    """Link FranceConnect to an account whose password was just checked."""
    if user.needs_second_factor:
        raise ValidationError(STAFF_REFUSED)
    if FranceConnectLink.objects.filter(sub=sub).exclude(user=user).exists():
        raise ValidationError("Cette identité FranceConnect est déjà reliée à un autre espace.")
    if FranceConnectLink.objects.filter(user=user).exclude(sub=sub).exists():
        raise ValidationError(
            "Cet espace est déjà relié à une autre identité FranceConnect : "
            "connectez-vous avec celle-ci, ou demandez à la mairie de la délier."
        )
    FranceConnectLink.objects.get_or_create(user=user, sub=sub)


def _username(claims: dict) -> str:
    base = f"{claims.get('given_name', '')}.{claims.get('family_name', '')}".lower()
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9.]+", "-", base).strip(".-")[:40] or "famille"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}.{n}"
    return candidate


@transaction.atomic
def create_account(*, sub: str, claims: dict) -> User:
    """A new family account from the FranceConnect identity: no password (it
    signs in through FranceConnect; « Mot de passe oublié » can add one when it
    has an e-mail address), not attached to any household until its activation
    key is entered. The e-mail is kept only if no other account uses it."""
    if FranceConnectLink.objects.filter(sub=sub).exists():
        raise ValidationError("Cette identité FranceConnect est déjà reliée à un espace.")
    email = (claims.get("email") or "").strip()
    if email and User.objects.filter(email__iexact=email).exists():
        email = ""
    user = User(
        username=_username(claims),
        first_name=(claims.get("given_name") or "")[:150],
        last_name=(claims.get("family_name") or "")[:150],
        email=email,
        role=User.Role.FAMILY,
        is_active=True,
        # FranceConnect's identity providers proved the address.
        email_verified_at=timezone.now() if email else None,
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
            FranceConnectLink.objects.create(user=user, sub=sub)
    except IntegrityError as exc:  # a double click: the other request won
        raise ValidationError("Cet espace vient d'être créé : reconnectez-vous.") from exc
    return user


@transaction.atomic
def unlink(*, user: User) -> FranceConnectLink | None:
    """Remove the account's FranceConnect link (a town agent does it at the
    family's request). The identity's next sign-in comes back to the first-use
    choice (link an account with its password, or create one). Returns the
    removed link (for the journal), or None when there was none."""
    found = FranceConnectLink.objects.select_for_update().filter(user=user).first()
    if found is None:
        return None
    found.delete()
    return found
