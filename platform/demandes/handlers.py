"""What accepting a request does, per kind. Each app registers its kinds:

    from demandes.handlers import register
    register("link_account", apply=link_account_from_demande, label="Rattacher mon compte")

`apply(demande, actor)` runs inside the accepting transaction; raising
`django.core.exceptions.ValidationError` refuses the acceptance with its message.
`describe(demande)` (optional) returns (label, value) lines shown to staff and
to the family: what the request asks, in French.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemandeKind:
    code: str
    label: str  # French, shown to families and staff
    apply: Callable | None  # None: accepting only records the decision
    describe: Callable | None = None


_KINDS: dict[str, DemandeKind] = {}


def register(
    code: str, *, label: str, apply: Callable | None = None, describe: Callable | None = None
) -> None:
    _KINDS[code] = DemandeKind(code, label, apply, describe)


def get(code: str) -> DemandeKind | None:
    return _KINDS.get(code)


def all_kinds() -> dict[str, DemandeKind]:
    return dict(_KINDS)


def label(code: str) -> str:
    kind = _KINDS.get(code)
    return kind.label if kind else code
