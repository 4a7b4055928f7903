from django.db import models

from bench_scale_app.spec import N, fields, options

for _i in range(N):
    _attrs = {"__module__": __name__, **dict(fields(_i))}
    _attrs["Meta"] = type("Meta", (), {"app_label": "bench_scale_app", **options(_i)})
    globals()[f"Thing{_i}"] = type(f"Thing{_i}", (models.Model,), _attrs)
