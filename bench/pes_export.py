"""PES V2 ORMC files of a big town's month (issue #20: < 60 s for 10,000 families).

    python bench/pes_export.py [--families 10000] [--fresh]
    database: BENCH_DATABASE_URL (default: the embedded server of `make run`)

Reuses billing_run.py's town (Castres's YAML as `benchville`, its Hélios
identifiers included) and data (N families of 2 children, a month of school
restaurant and evening care). Runs the month's invoicing if needed, gives every
payer a civility, then times `pes_services.build_batch` for each régie of the
month (reading the invoices and lines, building the XML, validating it against
our XSD and the documented rules, storing the batch and its pieces). Prints
the time, titles/s, the file's size; each measured run starts with no batch.
"""

from __future__ import annotations

import argparse
import time

import billing_run  # sets sys.path, DJANGO_SETTINGS_MODULE and the bench database


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django_tenants.utils import tenant_context

    from families.models import Household
    from modules.billing import pes, pes_services, services
    from modules.billing.models import DebtorDetails, Invoice

    commune = billing_run.town()
    with tenant_context(commune):
        if args.fresh or Household.objects.count() != args.families:
            billing_run.empty_billing()
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE booking_absence, booking_booking, booking_dayslot, "
                    "booking_activity, families_child_guardians, families_child, "
                    "families_adult, families_household CASCADE"
                )
            billing_run.build(args.families)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE billing_pespiece, billing_pesbatch CASCADE")
            cursor.execute("DELETE FROM billing_counter WHERE name LIKE 'pes-%%'")
        if not Invoice.objects.filter(year=billing_run.YEAR, month=billing_run.MONTH).exists():
            started = time.perf_counter()
            services.run_month(
                commune=commune,
                year=billing_run.YEAR,
                month=billing_run.MONTH,
                today=billing_run.TODAY,
                notify=False,
            )
            print(f"facturation du mois (préparation) : {time.perf_counter() - started:.0f} s")
        DebtorDetails.objects.bulk_create(
            [
                DebtorDetails(household_id=pk, civility="MME" if pk % 2 else "M")
                for pk in Household.objects.values_list("pk", flat=True)
            ],
            ignore_conflicts=True,
            batch_size=5000,
        )
        connection.close()  # measure with a fresh connection, as a request would have
        for code, name in pes_services.regies_of_month(billing_run.YEAR, billing_run.MONTH):
            started = time.perf_counter()
            batch = pes_services.build_batch(
                commune=commune,
                regie_code=code,
                year=billing_run.YEAR,
                month=billing_run.MONTH,
                today=billing_run.TODAY,
            )
            seconds = time.perf_counter() - started
            xml = bytes(batch.xml)
            started = time.perf_counter()
            pes.validate_pes(xml)
            check = time.perf_counter() - started
            print(
                f"{name} : {batch.count} titres ({batch.total} €), fichier de "
                f"{len(xml) / 1024 / 1024:.1f} Mio en {seconds:.1f} s "
                f"({batch.count / seconds:.0f} titres/s, dont validation XSD + règles "
                f"{check:.1f} s)"
            )
    connection.set_schema_to_public()


if __name__ == "__main__":
    main()
