from django.db import migrations

from bench_scale_app.spec import N, fields, options


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name=f"Thing{i}", fields=fields(i), options=options(i))
        for i in range(N)
    ]
