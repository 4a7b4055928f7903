"""Signed, expiring tokens carried by e-mail links.

Every token names the town's schema: account ids repeat from one town to the
next (one schema each), so a link made in Castres must mean nothing in Bondoufle.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.db import connection

_EMAIL_SALT = "accounts.email-confirmation"


@dataclass(frozen=True)
class EmailClaim:
    user_id: int
    email: str  # the address being confirmed
    current: str  # the account's address when the link was made (changes void the link)


def make_email_token(user, email: str) -> str:
    return signing.dumps(
        {"u": user.pk, "e": email, "c": user.email, "t": connection.schema_name},
        salt=_EMAIL_SALT,
        compress=True,
    )


def read_email_token(token: str) -> EmailClaim | None:
    """The claim, or None if forged, expired or made in another town."""
    try:
        data = signing.loads(
            token, salt=_EMAIL_SALT, max_age=settings.ACCOUNTS_EMAIL_LINK_HOURS * 3600
        )
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(data, dict) or data.get("t") != connection.schema_name:
        return None
    try:
        return EmailClaim(int(data["u"]), str(data["e"]), str(data["c"]))
    except (KeyError, TypeError, ValueError):
        return None


class TownPasswordResetTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset token (single use: it hashes the password and last login),
    bound to the town as well."""

    key_salt = "accounts.tokens.TownPasswordResetTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{connection.schema_name}:{super()._make_hash_value(user, timestamp)}"


password_reset_tokens = TownPasswordResetTokenGenerator()
