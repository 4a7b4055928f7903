"""PaymentSettings moves to modules.billing (billing's migration 0007 takes
over the same table, renamed, with its rows). Here only Django's state forgets
the model: the table is left to billing, never dropped; where billing is not
installed it stays, unused."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0002_town_logo")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PaymentSettings")],
            database_operations=[],
        ),
    ]
