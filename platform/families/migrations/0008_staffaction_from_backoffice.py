"""StaffAction (the family's history of what staff did for it) comes from the
back-office: it is written by booking, the back-office and the modules, so it
lives below them, with the families. Every town keeps its rows: the model is
first declared on the back-office's table as it is (state only), then the table
is renamed to families' (ALTER TABLE ... RENAME, rows untouched)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("families", "0007_qf_consent_identity"),
        ("backoffice", "0002_staffaction"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="StaffAction",
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
                        (
                            "actor_label",
                            models.CharField(blank=True, max_length=200, verbose_name="agent"),
                        ),
                        ("action", models.CharField(max_length=60, verbose_name="action")),
                        ("summary", models.TextField(verbose_name="ce qui a été fait")),
                        ("reason", models.TextField(blank=True, verbose_name="motif")),
                        (
                            "created_at",
                            models.DateTimeField(
                                auto_now_add=True, db_index=True, verbose_name="date"
                            ),
                        ),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "household",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="staff_actions",
                                to="families.household",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "action d'un agent pour une famille",
                        "ordering": ["-created_at", "-id"],
                        "db_table": "backoffice_staffaction",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="staffaction", table=None),
    ]
