"""Pure rules of accounts: no ORM, no request. Tested exhaustively in
accounts/tests/test_rules.py."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --- Throttling: growing delays, never a permanent lockout ------------------


@dataclass(frozen=True)
class ThrottlePolicy:
    """`free` failures cost nothing; then each failure doubles the wait, from
    `base` seconds up to `cap`. Failures are forgotten `forget_after` seconds
    after the last one. CNIL 2022-100 and ASVS 6.3.x: delays, not a lockout
    that a stranger could keep someone in by typing wrong passwords."""

    free: int
    base: int
    cap: int
    forget_after: int = 24 * 3600


# Per account: a family mistyping gets 5 free tries, then 30 s, 1 min, 2 min...
LOGIN_PER_ACCOUNT = ThrottlePolicy(free=5, base=30, cap=15 * 60)
# Per IP: higher, since a town hall's public computers share one address.
LOGIN_PER_IP = ThrottlePolicy(free=30, base=30, cap=15 * 60)
# Activation keys: 80 random bits, but a key opens a child's file: few tries.
KEY_PER_IP = ThrottlePolicy(free=5, base=60, cap=60 * 60)
KEY_PER_PREFIX = ThrottlePolicy(free=5, base=60, cap=60 * 60)
# E-mails sent on request (reset links, sign-up): no mail-bombing of a mailbox.
MAIL_PER_ADDRESS = ThrottlePolicy(free=3, base=15 * 60, cap=6 * 3600)
MAIL_PER_IP = ThrottlePolicy(free=20, base=60, cap=3600)


def throttle_delay(failures: int, policy: ThrottlePolicy) -> int:
    """Seconds to wait after `failures` consecutive failures (0: no wait)."""
    if failures < policy.free:
        return 0
    exponent = min(failures - policy.free, 32)  # 2**32 * base is past any cap
    return min(policy.cap, policy.base * 2**exponent)


def seconds_left(failures: int, last_failure: float, now: float, policy: ThrottlePolicy) -> int:
    """How long the next attempt must still wait (0: it may go ahead)."""
    if now - last_failure >= policy.forget_after:
        return 0
    wait = throttle_delay(failures, policy) - (now - last_failure)
    return max(0, int(wait + 0.999))


def wait_message(seconds: int) -> str:
    """French, rounded up to the minute: « Réessayez dans 2 minutes. »"""
    minutes = max(1, (seconds + 59) // 60)
    unit = "minute" if minutes == 1 else "minutes"
    return f"Trop de tentatives. Par sécurité, réessayez dans {minutes} {unit}."


# --- Activation keys --------------------------------------------------------

# Crockford's base 32: no I, L, O, U, so a key read off a letter is typed right.
KEY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
KEY_GROUPS = 4
KEY_GROUP_LENGTH = 4  # 16 symbols x 5 bits = 80 random bits
KEY_PREFIX_LENGTH = 4
_KEY_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalize_key(typed: str) -> str:
    """'k7qf-m2xr 9tda hw3p' -> 'K7QFM2XR9TDAHW3P' (O->0, I/L->1, separators dropped)."""
    cleaned = re.sub(r"[\s\-_.]", "", typed or "").upper().translate(_KEY_CONFUSABLES)
    return cleaned


def key_is_well_formed(normalized: str) -> bool:
    return len(normalized) == KEY_GROUPS * KEY_GROUP_LENGTH and all(
        c in KEY_ALPHABET for c in normalized
    )


def format_key(normalized: str) -> str:
    """'K7QFM2XR9TDAHW3P' -> 'K7QF-M2XR-9TDA-HW3P' (as printed on the letter)."""
    n = KEY_GROUP_LENGTH
    return "-".join(normalized[i : i + n] for i in range(0, len(normalized), n))


# --- Identity and contact details -------------------------------------------

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")


def normalize_username(raw: str) -> str:
    return (raw or "").strip().lower()


def username_problem(username: str) -> str | None:
    """None when acceptable, else a French explanation. No '@': an identifier
    with '@' is always an e-mail address at sign-in (Castres signs in by e-mail)."""
    if len(username) < 3:
        return "Le nom d'utilisateur doit contenir au moins 3 caractères."
    if len(username) > 40:
        return "Le nom d'utilisateur doit contenir au plus 40 caractères."
    if not USERNAME_RE.match(username):
        return (
            "Utilisez seulement des lettres sans accent, des chiffres, des points, "
            "des tirets ou des tirets bas (par exemple : claire.martin)."
        )
    return None


def identifier_is_email(identifier: str) -> bool:
    return "@" in identifier


def normalize_french_phone(raw: str) -> str | None:
    """A French phone number as '06 12 34 56 78', or None if it is not one.

    Accepts '0612345678', '06.12.34.56.78', '+33 6 12 34 56 78', '0033612345678'.
    """
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+33"):
        digits = "0" + digits[3:]
    elif digits.startswith("0033"):
        digits = "0" + digits[4:]
    if not re.fullmatch(r"0[1-9]\d{8}", digits):
        return None
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def postcode_is_valid(raw: str) -> bool:
    return bool(re.fullmatch(r"\d{5}", raw or ""))


def normalize_password_input(raw: str) -> str:
    """Passwords are kept as typed (any Unicode, spaces included); only the
    Unicode form is unified, so a passphrase typed on a phone and on a PC
    (composed vs decomposed accents) is the same password (NIST SP 800-63B)."""
    return unicodedata.normalize("NFKC", raw)


def key_problem(
    *, exists: bool, revoked: bool, used: bool, expires_at, now, adult_has_account: bool
) -> str | None:
    """Why a typed activation key cannot be used (French), or None. The wording
    names the cause: only someone holding a real key learns its state."""
    if not exists:
        return (
            "Cette clé n'est pas reconnue. Vérifiez-la sur votre courrier ou votre e-mail "
            "(16 caractères, par exemple K7QF-M2XR-9TDA-HW3P)."
        )
    if revoked:
        return "Cette clé a été remplacée par une clé plus récente : utilisez la dernière reçue."
    if used or adult_has_account:
        return (
            "Cette clé a déjà servi à créer un espace. Connectez-vous, ou demandez une "
            "nouvelle clé à votre mairie."
        )
    if expires_at <= now:
        return (
            f"Cette clé a expiré le {expires_at:%d/%m/%Y}. Demandez-en une nouvelle à votre mairie."
        )
    return None
