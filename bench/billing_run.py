"""The monthly invoicing run of a big town, then PDF generation (separately).

    python bench/billing_run.py [--families 10000] [--pdfs 50] [--fresh]
    database: BENCH_DATABASE_URL
    (default: the embedded server of `make run`, database guichet_bench_billing)

A town onboarded from Castres's YAML (as `benchville`), with N families of
2 children each (a quotient familial between 250 and 2,500 € for 9 in 10),
every child booked at the school restaurant and the evening care on every
school day of the month (Mon, Tue, Thu, Fri), with absences
(unjustified, justified, illness), late and in-time cancellations mixed in.
Prints the time of the run (`services.run_month`, e-mails excluded: they go
to a Celery task after commit), invoices/s and lines/s; the idempotent re-run;
then the time to render invoice PDFs (WeasyPrint) and the projection for all.
The data is built once and reused (--fresh rebuilds it); each measured run
starts from an empty billing state.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
sys.path.append(str(ROOT / "platform"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
from benchdb import bench_database_url  # noqa: E402

os.environ["DATABASE_URL"] = bench_database_url("guichet_bench_billing", env="BENCH_DATABASE_URL")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

SLUG = "benchville"
YEAR, MONTH = 2026, 3  # March 2026: 18 school days (no holiday handling needed)
TODAY = date(2026, 4, 8)


def town():
    import yaml
    from django.conf import settings
    from django.core.management import call_command

    from tenants.config import validate
    from tenants.models import Commune
    from tenants.onboarding import onboard_commune

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    existing = Commune.objects.filter(slug=SLUG).first()
    if existing:
        call_command(
            "migrate_schemas", schema_name=existing.schema_name, interactive=False, verbosity=0
        )
    data = yaml.safe_load((settings.TENANT_CONFIGS_DIR / "castres.yaml").read_text())
    data.update(slug=SLUG, name="Benchville", insee_code="99999", aliases=[])
    return onboard_commune(config=validate(data, source="bench")).commune


def school_days():
    day, days = date(YEAR, MONTH, 1), []
    while day.month == MONTH:
        if day.weekday() in (0, 1, 3, 4):
            days.append(day)
        day += timedelta(days=1)
    return days


def build(families: int) -> int:
    """Households, adults, children and a month of bookings (bulk inserts)."""
    from booking.models import Absence, Activity, Booking, DaySlot
    from core.models import Service
    from families.models import Adult, Child, Household

    rng = random.Random(42)
    started = time.perf_counter()
    # A quotient familial for 9 families in 10 (when the households model has
    # one): thousands of distinct prices to compute, as in a real town.
    has_qf = any(f.name == "quotient_familial" for f in Household._meta.get_fields())
    households = Household.objects.bulk_create(
        [
            Household(
                name=f"Famille {n}",
                address_line=f"{n} rue du Banc",
                postcode="81100",
                city="Benchville" if n % 10 else "Albi",
                **(
                    {"quotient_familial": rng.randrange(250, 2500) if n % 10 != 3 else None}
                    if has_qf
                    else {}
                ),
            )
            for n in range(families)
        ],
        batch_size=5000,
    )
    adults = Adult.objects.bulk_create(
        [
            Adult(
                household=h,
                first_name="Camille",
                last_name=f"Parent{h.pk}",
                email=f"parent{h.pk}@example.org",
            )
            for h in households
        ],
        batch_size=5000,
    )
    children = Child.objects.bulk_create(
        [
            Child(
                household=h,
                first_name=name,
                last_name=f"Enfant{h.pk}",
                birth_date=date(2015 + rng.randrange(8), 1 + rng.randrange(12), 1),
            )
            for h in households
            for name in ("Léa", "Hugo")
        ],
        batch_size=5000,
    )
    Through = Child.guardians.through
    by_household = {a.household_id: a for a in adults}
    Through.objects.bulk_create(
        [Through(child_id=c.pk, adult_id=by_household[c.household_id].pk) for c in children],
        batch_size=10000,
    )
    days = school_days()
    slots = []
    for code in ("restauration-scolaire", "accueil-soir"):
        activity = Activity.objects.create(
            service=Service.objects.get(code=code),
            name=f"Bench {code}",
            default_capacity=len(children),
        )
        slots += DaySlot.objects.bulk_create(
            [
                DaySlot(activity=activity, day=d, capacity=len(children), booked=len(children))
                for d in days
            ]
        )
    bookings, absences = [], []
    count = 0
    for slot in slots:
        for child in children:
            r = rng.random()
            status, late, attendance = "booked", False, "present"
            if r < 0.01:
                status, late = "cancelled", True
            elif r < 0.03:
                status = "cancelled"
            elif r < 0.06:
                attendance = "absent"
            bookings.append(
                Booking(
                    slot=slot,
                    child=child,
                    status=status,
                    cancelled_late=late,
                    attendance=attendance,
                )
            )
        Booking.objects.bulk_create(bookings, batch_size=10000)
        for b in bookings:
            if b.attendance == "absent" and rng.random() < 0.5:
                reason = rng.choice(["illness", "family"])
                absences.append(
                    Absence(
                        booking=b, reason=reason, decision=rng.choice(["justified", "unjustified"])
                    )
                )
        count += len(bookings)
        bookings = []
    Absence.objects.bulk_create(absences, batch_size=10000)
    print(
        f"données : {families} familles, {len(children)} enfants, {count} réservations "
        f"({len(absences)} absences signalées) en {time.perf_counter() - started:.1f} s"
    )
    return count


def empty_billing():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE billing_invoiceline, billing_directdebit, billing_payment, "
            "billing_paymentattempt, billing_invoice, billing_invoicingrun, "
            "billing_counter CASCADE"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--pdfs", type=int, default=50)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django_tenants.utils import tenant_context

    from booking.models import Booking
    from families.models import Household
    from modules.billing import pdf, services
    from modules.billing.models import Invoice

    commune = town()
    with tenant_context(commune):
        if args.fresh or Household.objects.count() != args.families:
            empty_billing()
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE booking_absence, booking_booking, booking_dayslot, "
                    "booking_activity, families_child_guardians, families_child, "
                    "families_adult, families_household CASCADE"
                )
            build(args.families)
        bookings = Booking.objects.count()
        empty_billing()
        connection.close()  # measure with a fresh connection, as a worker would have

        started = time.perf_counter()
        result = services.run_month(
            commune=commune, year=YEAR, month=MONTH, today=TODAY, notify=False
        )
        seconds = time.perf_counter() - started
        print(
            f"facturation mensuelle : {result.invoices} factures, {result.lines} lignes "
            f"({bookings} réservations lues) en {seconds:.1f} s — "
            f"{result.invoices / seconds:.0f} factures/s, {result.lines / seconds:.0f} lignes/s"
        )
        started = time.perf_counter()
        again = services.run_month(
            commune=commune, year=YEAR, month=MONTH, today=TODAY, notify=False
        )
        print(
            f"relance du même mois : {again.invoices} facture, {again.lines} ligne, "
            f"{time.perf_counter() - started:.1f} s"
        )

        _, invoicing = services.town_settings(commune)
        sample = list(Invoice.objects.order_by("?")[: args.pdfs])
        started = time.perf_counter()
        sizes = [
            len(
                pdf.invoice_pdf(
                    i,
                    commune,
                    how_to_pay=invoicing.how_to_pay,
                    pay_url="https://portail.example/benchville/billing/",
                )
            )
            for i in sample
        ]
        each = (time.perf_counter() - started) / max(len(sample), 1)
        lines = sum(i.lines.count() for i in sample) / max(len(sample), 1)
        print(
            f"PDF : {each * 1000:.0f} ms par facture ({lines:.0f} lignes en moyenne, "
            f"{sum(sizes) / max(len(sizes), 1) / 1024:.0f} Kio) — "
            f"{result.invoices * each / 60:.0f} min pour toutes sur un cœur"
        )
    connection.set_schema_to_public()


if __name__ == "__main__":
    main()
