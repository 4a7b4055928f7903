"""French error pages in the town's style (400, 403, 404, 500, and a refused
CSRF check), wired as the URLconfs' handler400/403/404/500 and
CSRF_FAILURE_VIEW. Under /api/ the same statuses answer a problem document
(core.api.problem_response) instead of a page.

A handler never fails: when the town's page cannot be drawn (the error may
come from the template machinery itself), a plain French page is sent."""

from __future__ import annotations

import logging

import sentry_sdk
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.html import escape

from core.api import problem_response

logger = logging.getLogger(__name__)

TITLES = {
    400: "Requête incorrecte",
    403: "Accès refusé",
    404: "Page introuvable",
    500: "Erreur du serveur",
}
API_DETAILS = {
    400: "La requête est incorrecte.",
    403: "Vous n'avez pas le droit d'effectuer cette action.",
    404: "Ressource introuvable.",
    500: "Une erreur inattendue s'est produite ; elle a été signalée à l'équipe technique.",
}
PLAIN = (
    '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title}</title></head><body><main><h1>{title}</h1>"
    "<p>Veuillez réessayer dans quelques instants. Si le problème continue, "
    "contactez votre mairie.</p>{reference}"
    '<p><a href="/">Retour à l\'accueil</a></p></main></body></html>'
)


def _is_api(request) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.app_names[:1] == ["api"]:
        return True
    return "/api/" in f"{request.META.get('SCRIPT_NAME', '')}{request.path_info}"


def _page(request, status: int, template: str, **context):
    if _is_api(request):
        return problem_response(status, API_DETAILS[status], **context)
    try:
        return render(
            request, template, {"status": status, "title": TITLES[status], **context}, status=status
        )
    except Exception:  # noqa: BLE001 - an error page must never fail
        logger.exception("error page %s could not be drawn", status)
        event = context.get("sentry_event_id")
        reference = f"<p>Référence : {escape(event)}</p>" if event else ""
        return HttpResponse(
            PLAIN.format(title=TITLES[status], reference=reference),
            status=status,
            content_type="text/html; charset=utf-8",
        )


def bad_request(request, exception=None):
    return _page(request, 400, "400.html")


def permission_denied(request, exception=None):
    return _page(request, 403, "403.html")


def not_found(request, exception=None):
    return _page(request, 404, "404.html")


def server_error(request):
    event_id = getattr(request, "sentry_event_id", None)
    if event_id is None:
        try:
            # The event Sentry captured for THIS request (its per-request scope);
            # without a DSN nothing was sent, so there is no id to quote.
            event_id = sentry_sdk.last_event_id() if sentry_sdk.get_client().dsn else None
        except Exception:  # noqa: BLE001
            event_id = None
    extra = {"sentry_event_id": event_id} if event_id else {}
    return _page(request, 500, "500.html", **extra)


def csrf_failure(request, reason=""):
    """The form's security check failed (expired page, cookies refused)."""
    if _is_api(request):
        return problem_response(403, "Vérification de sécurité (CSRF) refusée.")
    return _page(request, 403, "403.html", csrf=True)
