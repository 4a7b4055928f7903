"""Demo invoices for `make run` (fictitious data, Faker fr_FR).

The two months before yesterday's are invoiced (dated yesterday, so their
online-payment window is open whatever the hour) from the demo families'
bookings (platform/booking/demo.py books them); otherwise three fictitious
families with a month of school-restaurant bookings are created first. Then
the older invoice of each demo household is paid at the desk and the newer
one stays to pay online; the first household paid its older invoice twice
(a credit for the régie to handle); one household pays by direct debit when the town
offers it. Before them, on a fresh demo, one household (famille.demo.4) gets a
few canteen days in the month before the older one, invoiced on the day that
makes its due date the town's first reminder delay + 3 days ago, then the
reminders of the day they fell due run: that invoice is unpaid at its first
reminder (staff's « Impayés et relances », the family's invoice page and its
letter in PDF), whatever the day the demo is made. The separated parents of
families.demo share their child week about (a payer rule): each gets his own
invoice at his own QF. Idempotent
per month: a month already invoiced is left alone, and a run on a later day
invoices the months that ended since.

Fictitious families created here sign in with `facturation-<town>-<n>` /
DEMO_PASSWORD (README.md, modules/billing/README.md).
"""

from __future__ import annotations

import logging
import os
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from booking.models import Activity, Booking, DaySlot
from content.models import InfoPage
from core import town_config
from families.demo import demo_households
from families.models import Adult, Child, Household
from notifications.models import OutboxMessage
from paysim import keys

from . import reminder_services, services
from .desk import pay_invoice_at_desk
from .lines import month_bounds, previous_month
from .models import AccountCredit, Invoice, Mandate, PayerRule
from .payer_rules import ALTERNATE_WEEKS
from .payers import child_households
from .pricing import PricingError
from .selectors import payment_settings

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-famille-2026"  # demo only, printed in README.md
DEMO_ACTIVITY = "Restauration scolaire (démonstration facturation)"


def demo_payment_secrets() -> None:
    """The town can take a payment in the demo: the secret environment variables
    its payment settings name (CASTRES_PAYZEN_SECRET_TEST...) get the payment
    simulator's demo keys when unset (platform/paysim). Run in the town's schema
    by rundemo's process, which then serves the demo."""

    if not settings.PAYMENT_SIMULATOR:
        return

    row = payment_settings()
    if row is not None:
        for option, variable in (row.secret_env or {}).items():
            if option in keys.SECRETS:
                os.environ.setdefault(variable, keys.SECRETS[option])


def load_demo_data(commune, *, today: date | None = None) -> None:
    today = today or timezone.localdate()
    issued = today - timedelta(days=1)  # the payment window opened yesterday
    newer = previous_month(issued)
    older = previous_month(date(*newer, 1))
    tariffs, invoicing = services.town_settings(commune)
    started = timezone.now()
    _no_free_text_tariffs()
    _shared_custody(first_day=date(*older, 1))
    if not Invoice.objects.filter(year=older[0], month=older[1]).exists():
        _late_invoice(
            commune, tariffs, invoicing, month=previous_month(date(*older, 1)), today=today
        )
    for year, month in (older, newer):
        if Invoice.objects.filter(year=year, month=month).exists():
            continue
        first, last = month_bounds(year, month)
        with transaction.atomic():
            households = list(
                Booking.objects.filter(slot__day__gte=first, slot__day__lte=last)
                .values_list("child__household_id", flat=True)
                .distinct()
                .order_by("child__household_id")
            )
            if not households and (year, month) == newer:
                households = _fictitious_families(commune, tariffs, first, last)
            if not households:
                continue
            if (
                invoicing.direct_debit
                and len(households) >= 3
                and not Mandate.objects.filter(household_id=households[2]).exists()
            ):
                _demo_mandate(commune, households[2], invoicing, first)
            if invoicing.e_invoice:
                services.set_e_invoice(household=_household(households[0]), enabled=True, by=None)
            services.run_month(commune=commune, year=year, month=month, today=issued, notify=False)
            if (year, month) != older:
                _not_sent(started)
                continue
            for paid in Invoice.objects.filter(
                year=year, month=month, status=Invoice.Status.TO_PAY
            ):
                pay_invoice_at_desk(
                    invoice=paid, amount=paid.balance, by=None, note="démonstration"
                )
            _demo_credit(year, month)
            _not_sent(started)


LATE_PAYER = "famille.demo.4"  # README.md, docs/demo-accounts.md


def _late_invoice(commune, tariffs, invoicing, *, month: tuple[int, int], today: date) -> None:
    """An invoice left unpaid: four canteen days of LATE_PAYER's first child in
    `month`, invoiced so that it fell due (first reminder delay + 3) days ago,
    then the reminders of the day its first reminder was due. Skipped when the
    household is missing or the town's delays would date the invoice before
    the month's end."""

    child = (
        Child.objects.filter(household__adults__user__username=LATE_PAYER).order_by("id").first()
    )
    activity = _demo_activity(tariffs)
    if child is None or activity is None:
        return
    schedule = reminder_services.schedule_of(commune)
    due = today - timedelta(days=schedule.first_days + 3)
    issued = due - timedelta(days=invoicing.payment_days)
    first, last = month_bounds(*month)
    if issued <= last:
        return
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    try:
        with transaction.atomic():
            for day in [d for d in days if d.weekday() in (0, 1, 3, 4)][:4]:
                slot, _ = DaySlot.objects.get_or_create(
                    activity=activity, day=day, defaults={"capacity": 60}
                )
                _, created = Booking.objects.get_or_create(slot=slot, child=child)
                if created:
                    DaySlot.objects.filter(pk=slot.pk).update(booked=slot.booked + 1)
            services.run_month(
                commune=commune, year=month[0], month=month[1], today=issued, notify=False
            )
    except (services.BillingError, PricingError) as exc:
        # A town whose tariffs do not price that month: the demo goes on without it.
        logger.warning("Démo : pas de facture en retard pour %s (%s)", commune.slug, exc)
        return
    reminder_services.run_reminders(
        commune=commune, today=due + timedelta(days=schedule.first_days)
    )


def _demo_activity(tariffs):
    """The demo's own canteen activity (a priced service), or None."""

    priced = town_config.services(codes=tariffs.services)
    service = priced.filter(kind="restauration_scolaire").first() or priced.first()
    if service is None:
        return None
    activity, _ = Activity.objects.get_or_create(
        service=service, name=DEMO_ACTIVITY, defaults={"default_capacity": 60}
    )
    return activity


def _demo_credit(year: int, month: int) -> None:
    """The first household paid its settled invoice a second time online: a
    credit on its account for the régie to handle (« Paiements reçus en trop »)."""

    invoice = (
        Invoice.objects.filter(year=year, month=month, status=Invoice.Status.PAID, total__gt=0)
        .order_by("pk")
        .first()
    )
    if invoice is None:
        return
    AccountCredit.objects.get_or_create(
        provider="dummy",
        transaction_id=f"demo-double-{invoice.number}",
        defaults={
            "household_id": invoice.household_id,
            "invoice": invoice,
            "regie_code": invoice.regie_code,
            "regie_name": invoice.regie_name,
            "amount": invoice.total,
            "received_at": timezone.now() - timedelta(hours=2),
            "test": True,
        },
    )


def _no_free_text_tariffs() -> None:
    """Demo databases made before the generated tariff page (/billing/tarifs/)
    kept a free-text « Tarifs » page that contradicted the bills: removed."""

    InfoPage.objects.filter(slug="tarifs", body__contains="(démonstration)").delete()


def _shared_custody(*, first_day: date) -> None:
    """The demo's separated parents (families.demo: a mother at QF 540 and a
    father at QF 1150, each in his own household) share their child week
    about: each household pays its own weeks at its own QF, on its own
    invoice (payer_rules.py). Set once; a rule staff changed is kept."""

    monday = first_day - timedelta(days=first_day.weekday())
    for child in Child.objects.filter(
        household__in=demo_households(), payer_rule__isnull=True
    ).order_by("id"):
        homes = child_households(child)
        if len(homes) < 2:
            continue
        PayerRule.objects.create(
            child=child,
            kind=ALTERNATE_WEEKS,
            household_a=homes[0],
            household_b=homes[1],
            reference_monday=monday,
        )


def _not_sent(since) -> None:
    """Demo mandates and receipts are not e-mailed (as families.demo's e-mails)."""

    OutboxMessage.objects.filter(created_at__gte=since).update(sent_at=timezone.now())


def _household(pk):
    return Household.objects.get(pk=pk)


def _demo_mandate(commune, household_id, invoicing, period_start):
    household = _household(household_id)
    adult = household.adults.order_by("id").first()
    # Signed long enough ago to apply to the demo month (Chalonnes: from September).
    signed = (
        date(period_start.year - 1, 8, 1)
        if invoicing.direct_debit.starts == "september"
        else period_start
    )
    services.sign_mandate(
        household=household,
        user=getattr(adult, "user", None),
        iban="FR7630006000011234567890189",
        holder_name=f"{adult.first_name} {adult.last_name}",
        today=signed,
    )


def _fictitious_families(commune, tariffs, first, last) -> list[int]:
    # Heavy library (Faker and its locales: loaded only when the demo is built).
    from faker import Faker

    activity = _demo_activity(tariffs)
    if activity is None:
        return []
    fake = Faker("fr_FR")
    Faker.seed(f"billing-{commune.slug}")
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    days = [d for d in days if d.weekday() in (0, 1, 3, 4)]  # school days with a canteen
    slots = [
        DaySlot.objects.get_or_create(activity=activity, day=d, defaults={"capacity": 60})[0]
        for d in days
    ]
    ids = []
    for n in range(1, 4):
        last_name = fake.last_name()
        household = Household.objects.create(
            name=f"Famille {last_name}",
            address_line=fake.street_address(),
            postcode=town_config.section(commune, "postcode", ""),
            city=commune.name,
        )
        first_name = fake.first_name_female()
        username = f"facturation-{commune.slug}-{n}"
        user = User.objects.filter(username=username).first() or User.objects.create_user(
            username=username,
            email=f"{username}@example.org",
            password=DEMO_PASSWORD,
            first_name=first_name,
            last_name=last_name,
            role=User.Role.FAMILY,
        )
        adult = Adult.objects.create(
            household=household,
            user=user,
            first_name=first_name,
            last_name=last_name,
            email=user.email,
        )
        children = [
            Child.objects.create(
                household=household,
                first_name=fake.first_name(),
                last_name=last_name,
                birth_date=date(first.year - 7 - k, 3 + k, 10),
            )
            for k in range(2 if n != 2 else 1)
        ]
        for child in children:
            child.guardians.add(adult)
            for slot in slots:
                Booking.objects.create(slot=slot, child=child)
                DaySlot.objects.filter(pk=slot.pk).update(booked=slot.booked + 1)
                slot.booked += 1
        ids.append(household.pk)
    # A few facts billing prices differently: an unjustified absence, a late cancellation.
    some = Booking.objects.filter(slot__activity=activity, child__household_id=ids[0])
    Booking.objects.filter(pk__in=some.values("pk")[:1]).update(attendance="absent")
    Booking.objects.filter(pk__in=some.values("pk")[1:2]).update(
        status="cancelled", cancelled_late=True, cancelled_at=timezone.now()
    )
    return ids
