"""Figures and actions of the operator console (tenants.admin)."""

from __future__ import annotations

from functools import cache

from django.apps import apps
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.urls import get_script_prefix, reverse, set_script_prefix
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.tokens import password_reset_tokens


class InviteError(Exception):
    pass


@cache
def _tenant_migrations() -> frozenset[tuple[str, str]]:
    """Migrations on disk of the apps that live in town schemas."""

    labels = {apps.get_app_config(a.rsplit(".", 1)[-1]).label for a in settings.TENANT_APPS}
    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    return frozenset(key for key in loader.disk_migrations if key[0] in labels)


def town_stats(towns) -> dict[str, dict]:
    """schema -> {families, last_migration, pending}, ONE query per town
    (cheap: a count on an indexed table and the migrations table)."""
    wanted = _tenant_migrations()
    out = {}
    with connection.cursor() as cursor:
        for town in towns:
            schema = town.schema_name
            cursor.execute(
                f'SELECT (SELECT count(*) FROM "{schema}".families_household), '
                f'(SELECT max(applied) FROM "{schema}".django_migrations), '
                f"(SELECT array_agg(app || '.' || name) FROM \"{schema}\".django_migrations)"
            )
            families, last, applied = cursor.fetchone()
            applied = {tuple(a.split(".", 1)) for a in applied or ()}
            out[schema] = {
                "families": families,
                "last_migration": last,
                "pending": len(wanted - applied),
            }
    return out


def invite_town_admin(*, commune, email: str, first_name: str, last_name: str):
    """A town_admin account in the town's schema, with an unusable password,
    and an e-mail carrying a set-password link (Django's reset token). The
    admin enrols TOTP at first sign-in (accounts' second-factor pages)."""

    with tenant_context(commune), transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise InviteError("un compte existe déjà avec cette adresse dans cette commune.")
        user = User(
            username=email.lower(),
            email=email,
            first_name=first_name,
            last_name=last_name,
            role=User.Role.TOWN_ADMIN,
        )
        user.set_unusable_password()
        user.save()

        previous = get_script_prefix()
        set_script_prefix(f"/{commune.slug}/")
        try:
            # The town's URLs (the console runs with the public urlconf).
            path = reverse(
                "accounts:password_reset_confirm",
                urlconf=settings.TENANT_URLCONF,
                kwargs={
                    "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                    "token": password_reset_tokens.make_token(user),
                },
            )
        finally:
            set_script_prefix(previous)
        link = settings.SITE_URL + path
        body = (
            f"Bonjour {first_name},\n\nVous êtes invité(e) à administrer le portail famille de "
            f"{commune.name}.\nChoisissez votre mot de passe ici "
            f"(lien valable une heure) :\n{link}\n\n"
            "À la première connexion, vous enregistrerez une application d'authentification "
            "(double authentification obligatoire).\n"
        )
        transaction.on_commit(
            lambda: send_mail(
                f"Guichet Famille — {commune.name} : votre accès administrateur",
                body,
                None,
                [email],
            )
        )
    connection.set_schema_to_public()
    return user
