"""The API's JSON parser, bounded in size and depth, refusing invalid Unicode:
each refusal is a ParseError with a French message (a 400 problem document,
core.api), never a 500. Its own module: rest_framework.views reads
DEFAULT_PARSER_CLASSES when it is imported, so this must not import it back."""

from __future__ import annotations

import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Larger than any form of the API; files go through multipart, not JSON.
JSON_MAX_BYTES = 1024 * 1024
JSON_MAX_DEPTH = 32
_JSON_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")


def _too_deep(text: str, limit: int) -> bool:
    """Nesting deeper than `limit`, counted outside strings (linear, no recursion)."""
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


def _has_lone_surrogate(value) -> bool:
    """json.loads turns "\\ud800" into a str no UTF-8 encoder (nor PostgreSQL) accepts."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, bounded: size (JSON_MAX_BYTES), nesting depth
    (JSON_MAX_DEPTH), strict UTF-8 and no lone surrogate. Each refusal is a
    ParseError with a French message (a 400 problem document)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = getattr(settings, "API_JSON_MAX_BYTES", JSON_MAX_BYTES)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ParseError(f"Le corps JSON dépasse la taille maximale ({limit // 1024} Kio).")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("Le corps de la requête n'est pas de l'UTF-8 valide.") from None
        if _too_deep(text, JSON_MAX_DEPTH):
            raise ParseError(
                f"Le JSON est imbriqué trop profondément ({JSON_MAX_DEPTH} niveaux au plus)."
            )
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise ParseError("Le corps de la requête n'est pas un JSON valide.") from None
        if _has_lone_surrogate(data):
            raise ParseError(
                "Le JSON contient un caractère Unicode invalide (moitié isolée d’une paire "
                "de substitution isolée, par exemple \\ud800)."
            )
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} n'est pas du JSON standard")
