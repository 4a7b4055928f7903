"""Demo accounts of one town (fictitious people), loaded by `manage.py rundemo`
inside the town's schema. Idempotent. docs/demo-accounts.md lists them."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from core.town_config import section
from idsim.provider import DEMO_API_TOKEN, DEMO_CLIENT_SECRET

FAMILY_USERNAME = "famille.martin"
FAMILY_PASSWORD = "une belle journée à la piscine"
AGENT_USERNAME = "agent.demo"
AGENT_PASSWORD = "agent demo guichet famille"
ADMIN_USERNAME = "admin.commune"
ADMIN_PASSWORD = "administration de la commune"
# Base32 "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" (well-known test secret): demo only,
# typed into an authenticator app or `oathtool --totp -b <secret>`.
DEMO_TOTP_SECRET_HEX = "48656c6c6f21deadbeef48656c6c6f21deadbeef"
DEMO_TOTP_SECRET_BASE32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _account(username, password, *, email, first_name, last_name, role, areas=()):
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "role": role,
            "service_areas": list(areas),
            "email_verified_at": timezone.now(),
        },
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def _totp(user):
    TOTPDevice.objects.get_or_create(
        user=user, name="Démo", defaults={"key": DEMO_TOTP_SECRET_HEX, "confirmed": True}
    )


@transaction.atomic
def load(commune) -> None:
    """One family account (families.demo links it to the « Famille Martin »
    household), one agent (all service areas) and one town admin, both with the
    demo TOTP secret."""

    identity_demo_secrets(commune)
    slug = connection.schema_name
    _account(
        FAMILY_USERNAME,
        FAMILY_PASSWORD,
        email=f"famille.martin@{slug}.example",
        first_name="Claire",
        last_name="Martin",
        role=User.Role.FAMILY,
    )
    agent = _account(
        AGENT_USERNAME,
        AGENT_PASSWORD,
        email=f"agent@{slug}.example",
        first_name="Agnès",
        last_name="Durand",
        role=User.Role.AGENT,
        areas=[a.value for a in User.Area],
    )
    admin = _account(
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        email=f"admin@{slug}.example",
        first_name="Alain",
        last_name="Bernard",
        role=User.Role.TOWN_ADMIN,
    )
    _totp(agent)
    _totp(admin)


def load_operator(username: str) -> None:
    """The demo operator's TOTP device (public schema): /admin/ asks for a code."""

    connection.set_schema_to_public()
    user = User.objects.filter(username=username).first()
    if user is not None:
        user.role = User.Role.OPERATOR
        user.save(update_fields=["role"])
        _totp(user)


def identity_demo_secrets(commune) -> None:
    """FranceConnect and API Particulier in the demo: the town's client secret
    and token variables (BONDOUFLE_FRANCECONNECT_SECRET...) get the local
    stand-ins' published demo values when unset (platform/idsim)."""
    if not settings.IDENTITY_SIMULATOR:
        return

    fc = ((section(commune, "franceconnect") or {}).get("secrets") or {}).get("client_secret")
    api = ((section(commune, "api_particulier") or {}).get("secrets") or {}).get("token")
    if fc:
        os.environ.setdefault(fc, DEMO_CLIENT_SECRET)
    if api:
        os.environ.setdefault(api, DEMO_API_TOKEN)
