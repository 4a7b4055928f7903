"""Sign-in with a username OR an e-mail address (Castres signs in by e-mail,
Bondoufle and Donges by username)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from accounts.rules import identifier_is_email

UNVERIFIED_ATTR = "accounts_unverified_user"


def find_account(identifier: str):
    """The account an identifier names in the current town, or None."""
    User = get_user_model()
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    if identifier_is_email(identifier):
        user = User.objects.filter(email__iexact=identifier).first()
        if user is not None:
            return user
    return User.objects.filter(username__iexact=identifier).first()


class UsernameOrEmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = find_account(username)
        if user is None:
            # Same cost as a real check: the answer time does not tell that
            # the account does not exist (Django's own mitigation).
            get_user_model()().set_password(password)
            return None
        if not user.check_password(password):
            return None
        if self.user_can_authenticate(user):
            return user
        if user.email_verified_at is None and request is not None:
            # Right password, address never confirmed: the sign-in page says so
            # (only someone who knows the password learns the account exists).
            setattr(request, UNVERIFIED_ATTR, user)
        return None
