"""Second factor (TOTP, django-otp) for town staff and operators.

docs/decisions/0400-django-otp.md says why django-otp. An account enrols once
(QR code or secret typed into an authenticator app), then gives a 6-digit
code after its password at each sign-in."""

from __future__ import annotations

import base64

import segno
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.sessions import rotate_session

DEVICE_NAME = "Application d'authentification"


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def pending_device(user) -> TOTPDevice:
    """The device being enrolled (not trusted until a code from it is typed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps ask for it when typed by hand."""
    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, title="QR code à scanner avec votre application d'authentification"
    )


def is_verified(user) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def verify(request, device: TOTPDevice, token: str) -> bool:
    """Check a code; on success the session is marked verified and renewed
    (a privilege change, like a sign-in, gets a new session id)."""
    if not device.verify_token(token):
        return False
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])

    rotate_session(request)
    otp_login(request, device)
    return True
