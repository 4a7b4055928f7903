"""Enrol an account's TOTP device from the command line (operators of the
public admin, or a town's first admin): prints the secret and a QR code."""

import segno
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts import otp
from accounts.models import User


class Command(BaseCommand):
    help = "Crée la double authentification (TOTP) d'un compte et affiche le QR code."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--schema", default="public", help="commune (schéma) du compte ; public par défaut"
        )
        parser.add_argument("--replace", action="store_true", help="remplacer l'appareil existant")

    def handle(self, *args, username, schema, replace, **options):
        with schema_context(schema):
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"Aucun compte « {username} » dans le schéma {schema}.")
            if otp.confirmed_device(user) and not replace:
                raise CommandError(
                    "Ce compte a déjà une double authentification (--replace pour la remplacer)."
                )
            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name=otp.DEVICE_NAME, confirmed=True)

            self.stdout.write(f"Clé secrète (base 32) : {otp.secret_base32(device)}")
            self.stdout.write(f"URL : {device.config_url}")
            segno.make(device.config_url).terminal(out=self.stdout, compact=True)
        connection.set_schema_to_public()
