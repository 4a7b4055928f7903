"""manage.py invite_opening <slug> [period id ...] [--due] [--again]

E-mails the families of a town's opening an invitation to sign in before it
(booking.invitations): now, for the periods named; `--due`: the openings due
(what the periodic job does every 15 minutes). Once per opening, unless
`--again`. The messages go through the outbox.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_tenants.utils import tenant_context

from booking import invitations
from booking.models import ReservationPeriod
from core.towns import all_towns


class Command(BaseCommand):
    help = "Invite par e-mail les familles à se connecter avant l'ouverture des réservations."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="la commune")
        parser.add_argument("periods", nargs="*", type=int, help="périodes (identifiants)")
        parser.add_argument("--due", action="store_true", help="les ouvertures à annoncer")
        parser.add_argument("--again", action="store_true", help="même si déjà envoyée")

    def handle(self, *args, slug, periods, due, again, **options):
        connection.set_schema_to_public()
        town = all_towns().filter(slug=slug).first()
        if town is None:
            raise CommandError(f"Commune inconnue : {slug}")
        if not periods and not due:
            raise CommandError("Indiquez une ou plusieurs périodes, ou --due.")
        with tenant_context(town):
            if due:
                sent = invitations.invite_due()
            else:
                known = set(
                    ReservationPeriod.objects.filter(pk__in=periods, waiting_room=True).values_list(
                        "pk", flat=True
                    )
                )
                unknown = sorted(set(periods) - known)
                if unknown:
                    raise CommandError(
                        "Pas d'ouverture avec file d'attente pour la ou les périodes "
                        + ", ".join(map(str, unknown))
                    )
                sent = {pk: invitations.invite(pk, again=again) for pk in periods}
        for pk, n in sent.items():
            self.stdout.write(f"{slug} : période {pk} : {n} invitation(s) mise(s) en file d'envoi")
        if not sent:
            self.stdout.write(f"{slug} : aucune ouverture à annoncer")
