"""Server-side SVG bar charts (no JavaScript, nothing for the CSP to allow).
Each chart carries role="img" and a French aria-label; the page also shows the
figures in a table for screen readers and keyboard users."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe


def bar_chart(
    points: list[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    width: int = 640,
    height: int = 200,
    max_value: float | None = None,
) -> str:
    if not points:
        return mark_safe(f'<p class="muted">{escape(title)} : aucune donnée.</p>')
    top = max_value or max((v for _, v in points), default=0) or 1
    gap, left, bottom = 4, 8, 36
    bar_w = max((width - left * 2) / len(points) - gap, 2)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    usable = height - bottom - 16
    for i, (label, value) in enumerate(points):
        h = usable * (value / top) if top else 0
        x = left + i * (bar_w + gap)
        y = height - bottom - h
        shown = f"{value:g}{unit}"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#0b4f8a">'
            f"<title>{escape(label)} : {escape(shown)}</title></rect>"
        )
        if len(points) <= 16 or i % max(len(points) // 10, 1) == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 14}" font-size="10" '
                f'text-anchor="middle" fill="#1b1b1b">{escape(label)}</text>'
            )
        if len(points) <= 16:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{max(y - 3, 10):.1f}" font-size="10" '
                f'text-anchor="middle" fill="#1b1b1b">{escape(shown)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))
