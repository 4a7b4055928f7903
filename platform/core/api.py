"""API base: errors are RFC 9457 problem documents with a French `detail`;
request bodies are read by a JSON parser bounded in size and depth that refuses
invalid Unicode (each a 400 in French, never a 500)."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.http import JsonResponse
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler

_TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    413: "Requête trop volumineuse",
    415: "Type de contenu non pris en charge",
    429: "Trop de requêtes",
    500: "Erreur du serveur",
}

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
                "Le JSON contient un caractère Unicode invalide (seconde moitié de paire "
                "de substitution isolée, par exemple \\ud800)."
            )
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} n'est pas du JSON standard")


def problem_body(status_code: int, detail: str, **extra) -> dict:
    return {
        "type": "about:blank",
        "title": _TITLES.get(status_code, "Erreur"),
        "status": status_code,
        "detail": detail,
        **extra,
    }


def problem(status_code: int, detail: str, **extra) -> Response:
    """A DRF response carrying a problem document."""
    return Response(
        problem_body(status_code, detail, **extra),
        status=status_code,
        content_type="application/problem+json",
    )


def problem_response(status_code: int, detail: str, **extra) -> JsonResponse:
    """The same problem document, outside DRF (middleware, plain views)."""
    return JsonResponse(
        problem_body(status_code, detail, **extra),
        status=status_code,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )


def server_error_body(event_id: str = "") -> dict:
    body = problem_body(
        500,
        "Une erreur inattendue s'est produite de notre côté. L'équipe technique est prévenue ; "
        "réessayez dans quelques minutes.",
    )
    if event_id:
        body["sentry_event_id"] = event_id
    return body


def problem_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        detail, errors = str(data["detail"]), None
    else:
        detail, errors = "Certaines données sont invalides.", data
    body = {
        "type": "about:blank",
        "title": _TITLES.get(response.status_code, "Erreur"),
        "status": response.status_code,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    response.data = body
    response.content_type = "application/problem+json"
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        response["Retry-After"] = response.get("Retry-After", "60")
    return response
