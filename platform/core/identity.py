"""A town's visual identity: its two colours (from its configuration,
`identity` in tenant_configs/<slug>.yaml) and the WCAG AA contrast rule they
must pass. Pure: no Django import.

How ui.css uses them (contract B, docs/design-system.md):
- `--color-primary` fills the header and primary buttons under white text, and
  colours links on the white page: it needs 4.5:1 against white;
- `--color-accent` is a soft background (cards, tiles, table heads) under the
  body text (#1b1b1b) and under links in the primary colour: it needs 4.5:1
  against both. So the PAIR is checked, not each colour alone.
4.5:1 is WCAG 2.x AA for normal text (success criterion 1.4.3).
"""

from __future__ import annotations

import re

from core.town_config import section

AA_NORMAL_TEXT = 4.5
WHITE = "#ffffff"
INK = "#1b1b1b"  # ui.css --color-ink: the body text
# ui.css's own colours (a town that chose none).
DEFAULTS = {"primary_color": "#0b4f8a", "accent_color": "#eef4fa"}
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
    """(key, French message) for each colour that would make text unreadable
    (below WCAG AA); empty when the pair is readable. A colour left out is
    checked as its default."""
    identity = identity or {}
    chosen = {
        key: identity[key].lower() if is_colour(identity.get(key)) else default
        for key, default in DEFAULTS.items()
    }
    primary, accent = chosen["primary_color"], chosen["accent_color"]
    checks = (
        (
            "primary_color",
            primary,
            WHITE,
            "le blanc (texte des boutons et de l'en-tête, fond des pages)",
            "plus foncée",
        ),
        (
            "accent_color",
            accent,
            INK,
            "le texte noir posé dessus (cartes, en-têtes de tableaux)",
            "plus claire",
        ),
        (
            "accent_color",
            accent,
            primary,
            f"la couleur principale {primary} (liens posés dessus)",
            "plus claire, ou une couleur principale plus foncée",
        ),
    )
    problems = []
    for n, (key, colour, against, what, advice) in enumerate(checks):
        if n == 2 and "accent_color" not in identity:
            key = "primary_color"  # the pair, when only the primary colour was chosen
        if key not in identity or any(p[0] == key for p in problems):
            continue  # only the colours the town chose; one message per colour
        ratio = contrast_ratio(colour, against)
        if ratio < AA_NORMAL_TEXT:
            problems.append(
                (
                    key,
                    f"la {LABELS[key]} {colour} n'offre qu'un contraste de {ratio_label(ratio)} "
                    f"avec {what} ; il faut au moins 4,5:1 (niveau AA des règles "
                    f"d'accessibilité WCAG) pour que tout le monde puisse lire. Choisissez une "
                    f"couleur {advice}.",
                )
            )
    return problems


def town_colours(commune) -> dict[str, str]:
    """The colours in force in a town (its `identity` section)."""
    return colours_of({"identity": section(commune, "identity") or {}})


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
