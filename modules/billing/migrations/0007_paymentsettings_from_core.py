"""PaymentSettings comes from core (the platform no longer holds billing's
model). Every town keeps its row: the model is first declared on core's table
as it is (state only), then the table is renamed to billing's
(ALTER TABLE ... RENAME, rows untouched), in each town schema."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_pes_batches"),
        ("core", "0002_town_logo"),  # core_paymentsettings exists
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PaymentSettings",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("kind", models.CharField(max_length=30, verbose_name="prestataire")),
                        ("options", models.JSONField(blank=True, default=dict)),
                        ("secret_env", models.JSONField(blank=True, default=dict)),
                    ],
                    options={
                        "verbose_name": "paiement en ligne",
                        "db_table": "core_paymentsettings",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="paymentsettings", table=None),
    ]
