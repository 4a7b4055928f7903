"""Throwaway app for the scale benchmarks (never installed by the product).

BENCH_EXTRA_MODELS=N gives it N synthetic models (Thing0..ThingN-1, each with
an FK, indexes, a unique and a check constraint) in ONE migration:
- bench/tenant_create.py --extra-models 80: a town schema the size the product
  will reach (~100 tables);
- bench/many_towns.py: towns created without it, then migrate_towns with
  BENCH_EXTRA_MODELS=1 = one additive migration across every town.
"""
