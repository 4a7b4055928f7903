"""Fields and options of the synthetic models, shared by models.py and the migration."""

import os

from django.db import models

N = int(os.environ.get("BENCH_EXTRA_MODELS", "1"))


def fields(i: int) -> list:
    out = [
        ("id", models.BigAutoField(primary_key=True, serialize=False)),
        ("name", models.CharField(max_length=120, db_index=True)),
        ("code", models.SlugField(max_length=40, unique=True)),
        ("amount", models.DecimalField(max_digits=10, decimal_places=2, default=0)),
        ("created", models.DateTimeField(auto_now_add=True)),
        ("active", models.BooleanField(default=True)),
        ("data", models.JSONField(default=dict, blank=True)),
    ]
    if i:
        out.append(
            (
                "parent",
                models.ForeignKey(
                    f"bench_scale_app.thing{i - 1}", null=True, blank=True, on_delete=models.CASCADE
                ),
            )
        )
    return out


def options(i: int) -> dict:
    return {
        "indexes": [models.Index(fields=["active", "created"], name=f"bench_thing{i}_active")],
        "constraints": [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name=f"bench_thing{i}_amount")
        ],
    }
