"""A town's visual identity: its two colours (from its configuration,
`identity` in tenant_configs/<slug>.yaml) and the WCAG AA contrast rule they
must pass. Pure: no Django import.

How the colours are used (ui.css): `--color-primary` fills primary buttons and
the header, with white text on it, and colours links on the white page;
`--color-accent` does the same for secondary accents. Both must therefore
reach WCAG AA against white: a contrast ratio of at least 4.5:1 (normal text,
success criterion 1.4.3).
"""

from __future__ import annotations

import re

AA_NORMAL_TEXT = 4.5
WHITE = "#ffffff"
# The platform's own colours (a town that chose none).
DEFAULTS = {"primary_color": "#1d4f91", "accent_color": "#8a3b12"}
LABELS = {"primary_color": "couleur principale", "accent_color": "couleur d'accent"}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def is_colour(value) -> bool:
    return isinstance(value, str) and bool(_HEX.match(value))


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    r, g, b = linear
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """(L1 + 0.05) / (L2 + 0.05), the lighter over the darker: 1 to 21."""
    la, lb = relative_luminance(a), relative_luminance(b)
    light, dark = max(la, lb), min(la, lb)
    return (light + 0.05) / (dark + 0.05)


def ratio_label(ratio: float) -> str:
    """« 3,2:1 » (French decimal comma; truncated, so 4.49 never reads 4,5)."""
    return f"{int(ratio * 10) / 10:.1f}".replace(".", ",") + ":1"


def colour_problems(identity: dict) -> list[tuple[str, str]]:
    """(key, French message) for each colour below WCAG AA against white text
    and the white page; empty when both are readable."""
    problems = []
    for key in ("primary_color", "accent_color"):
        colour = (identity or {}).get(key)
        if colour is None or not is_colour(colour):
            continue  # absent: the default; malformed: the JSON schema says so
        ratio = contrast_ratio(colour, WHITE)
        if ratio < AA_NORMAL_TEXT:
            problems.append(
                (
                    key,
                    f"la {LABELS[key]} {colour.lower()} n'offre qu'un contraste de "
                    f"{ratio_label(ratio)} avec le blanc (texte des boutons, fond des pages) ; "
                    "il faut au moins 4,5:1 (niveau AA des règles d'accessibilité WCAG) pour que "
                    "tout le monde puisse lire. Choisissez une couleur plus foncée.",
                )
            )
    return problems


def colours_of(config: dict) -> dict[str, str]:
    """The two colours in force: the town's when valid and readable, else the defaults."""
    identity = (config or {}).get("identity") or {}
    refused = {key for key, _ in colour_problems(identity)}
    return {
        key: identity[key].lower()
        if is_colour(identity.get(key)) and key not in refused
        else default
        for key, default in DEFAULTS.items()
    }
