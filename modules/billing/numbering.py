"""Gapless per-town numbering (invoices, credit notes, receipts, mandates).

French public accounting asks for a continuous, chronological numbering of
invoices (no gap, no reuse). A PostgreSQL SEQUENCE would leave gaps on every
rollback, so numbers come from a counter ROW incremented in the very
transaction that writes the invoices: a concurrent run waits on the row lock
until the first commits, and a rolled-back run gives its numbers back.
Invoices and credit notes share one series per year (prefix F or A).
"""

from __future__ import annotations

from django.db import transaction

from .models import Counter

PREFIX = {"invoice": "F", "corrective": "F", "credit": "A", "opening": "S"}


def reserve(name: str, count: int = 1) -> int:
    """Reserve `count` consecutive numbers of counter `name`; return the first.
    Must run inside the transaction that uses them: the counter row stays
    locked until it commits (or rolls back, giving the numbers back)."""

    if count < 1:
        raise ValueError("count must be positive")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Numbers must be reserved inside the transaction that uses them.")
    counter = lock(name)
    first = counter.value + 1
    counter.value += count
    counter.save(update_fields=["value"])
    return first


def lock(name: str):
    """The counter row `name`, created if needed (INSERT ... ON CONFLICT DO
    NOTHING: two first callers cannot collide) and locked FOR UPDATE."""

    Counter.objects.bulk_create([Counter(name=name, value=0)], ignore_conflicts=True)
    return Counter.objects.select_for_update().get(name=name)


def invoice_numbers(year: int, count: int, *, kind: str = "invoice") -> list[str]:
    first = reserve(f"invoice-{year}", count)
    return [format_number(kind, year, n) for n in range(first, first + count)]


def format_number(kind: str, year: int, n: int) -> str:
    """('invoice', 2026, 42) -> 'F2026-000042'."""
    return f"{PREFIX[kind]}{year}-{n:06d}"


def opening_numbers(year: int, count: int) -> list[str]:
    """Opening balances taken over by an import: their own series (S2026-000001)."""
    first = reserve(f"opening-{year}", count)
    return [format_number("opening", year, n) for n in range(first, first + count)]


def receipt_number(year: int) -> str:
    return f"R{year}-{reserve(f'receipt-{year}'):06d}"
