"""Helpers for tests of accounts (and of other apps signing people in)."""

from __future__ import annotations

import html
from contextlib import nullcontext

from django.db import connection
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context


def text(response) -> str:
    """The page as a person reads it (HTML entities decoded)."""
    return html.unescape(response.content.decode())


def totp_now(device) -> str:
    """The code an authenticator app shows now for `device`."""

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def force_login_verified(client, user, commune=None):
    """`client.force_login(user)` for town staff: also marks the session as
    verified by a TOTP device (accounts.middleware.SecondFactorMiddleware keeps
    unverified staff sessions on the code page). Families need no device.
    `commune=None`: a platform operator on the console (public schema)."""

    connection.set_schema_to_public()
    with tenant_context(commune) if commune else nullcontext():
        client.force_login(user)
        if user.needs_second_factor:
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            device = device or TOTPDevice.objects.create(user=user, name="tests", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
    connection.set_schema_to_public()
