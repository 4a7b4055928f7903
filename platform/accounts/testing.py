"""Helpers for tests of accounts (and of other apps signing people in)."""

from __future__ import annotations

import html


def text(response) -> str:
    """The page as a person reads it (HTML entities decoded)."""
    return html.unescape(response.content.decode())


def totp_now(device) -> str:
    """The code an authenticator app shows now for `device`."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"
