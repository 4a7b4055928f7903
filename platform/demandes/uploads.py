"""Serving a request's attachment (security.md: always a download, never
rendered inline, with the content type found when it was checked). Files are
checked when they arrive by core.uploads.check_upload, the one checker."""

from __future__ import annotations

from django.http import FileResponse, Http404


def serve_attachment(attachment):
    """Always a download (never rendered inline), with the checked content type."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("Fichier introuvable.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
