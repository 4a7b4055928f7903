"""Server-side SVG bar charts (no JavaScript, nothing for the CSP to allow).
Each chart carries role="img" and a French aria-label; the page also shows the
figures in a table for screen readers and keyboard users.

Numbers in French (« 202,13 € », « 1 250 »), on a rounded scale (0 to 1, 2 or
5 × 10ⁿ) drawn as labelled grid lines; bars keep a sensible width when there
are few of them (one month of unpaid invoices is not a full-width slab)."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import mark_safe

NBSP = "\u202f"  # narrow no-break space: the French thousands separator


def french_number(value: float, decimals: int | None = None) -> str:
    """1234.5 -> '1 234,5'; 202.13 -> '202,13'; 7.0 -> '7'."""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NBSP).replace(".", ",")


def nice_step(raw: float, *, integer: bool = False) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at least `raw` (whole numbers for counts)."""
    if raw <= 0:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        value = step * power
        if value >= raw and (not integer or float(value).is_integer()):
            return value
    return 10 * power


def nice_max(top: float, *, integer: bool = False) -> float:
    """A scale top of four equal, readable steps (0, 1, 2, 3, 4 — 0, 2 €, 4 €...)."""
    return 4 * nice_step(top / 4, integer=integer)


def bar_chart(
    points: list[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    width: int = 640,
    height: int = 220,
    max_value: float | None = None,
    decimals: int | None = None,
) -> str:
    if not points:
        return mark_safe(f'<p class="muted">{escape(title)} : aucune donnée.</p>')
    integer = all(float(v).is_integer() for _, v in points)
    top = max_value or nice_max(max((v for _, v in points), default=0), integer=integer)
    left, bottom, top_pad, gap = 64, 36, 16, 6
    plot_w = width - left - 8
    slot = plot_w / len(points)
    bar_w = min(max(slot - gap, 2), 56)
    usable = height - bottom - top_pad

    def shown(v):
        return f"{french_number(v, decimals)}{unit}"

    def tick(v):
        return f"{french_number(v, 0 if float(v).is_integer() else decimals)}{unit}"

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):  # grid lines and scale: 0, 1/4, 1/2, 3/4, max
        value = top * i / 4
        y = height - bottom - usable * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de" '
            'stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 3:.1f}" font-size="10" text-anchor="end" '
            f'fill="#1b1b1b">{escape(tick(value))}</text>'
        )
    for i, (label, value) in enumerate(points):
        h = usable * (min(value, top) / top) if top else 0
        x = left + i * slot + (slot - bar_w) / 2
        y = height - bottom - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#0b4f8a">'
            f"<title>{escape(label)} : {escape(shown(value))}</title></rect>"
        )
        if len(points) <= 16 or i % max(len(points) // 10, 1) == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 14}" font-size="10" '
                f'text-anchor="middle" fill="#1b1b1b">{escape(label)}</text>'
            )
        if len(points) <= 16 and value:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{max(y - 3, 10):.1f}" font-size="10" '
                f'text-anchor="middle" fill="#1b1b1b">{escape(shown(value))}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))
