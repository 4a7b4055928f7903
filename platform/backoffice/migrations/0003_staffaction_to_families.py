"""StaffAction moves to families (families' migration 0008 takes over the
same table, renamed, with its rows). Here only Django's state forgets the model:
the table is never dropped."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0002_staffaction"),
        ("families", "0008_staffaction_from_backoffice"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="StaffAction")],
            database_operations=[],
        ),
    ]
