"""API base: errors are RFC 9457 problem documents with a French `detail`
(request bodies: core.parsers, bounded JSON)."""

from __future__ import annotations

from django.http import JsonResponse
from rest_framework import status
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
