"""Checking an uploaded file before it is stored (security.md: size cap, type
from the bytes, server-generated name, never executed, served as attachment)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404

MAX_BYTES = 5 * 1024 * 1024  # a scanned A4 page is well under 5 Mo
_SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
_UNSAFE = re.compile(r"[^\w .()\-]+", re.UNICODE)


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    stored_name: str  # what the server names it on disk
    original_name: str  # cleaned, shown to users and used as download name


def sniff(head: bytes) -> tuple[str, str] | None:
    """Content type and extension from the first bytes, or None (pure)."""
    for magic, content_type, ext in _SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    return None


def clean_original_name(name: str, ext: str) -> str:
    base = _UNSAFE.sub("_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    base = base.rsplit(".", 1)[0].strip(" ._")[:80] or "document"
    return f"{base}.{ext}"


def check_upload(upload) -> CheckedFile:
    """Validate an UploadedFile; raises ValidationError (French)."""
    if upload.size > MAX_BYTES:
        raise ValidationError("Le fichier dépasse 5 Mo.", code="too_big")
    if upload.size == 0:
        raise ValidationError("Le fichier est vide.", code="empty")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    found = sniff(head)
    if found is None:
        raise ValidationError(
            "Format non accepté : envoyez un PDF, un JPEG ou un PNG.", code="file_type"
        )
    content_type, ext = found
    stored = f"{uuid.uuid4().hex}.{ext}"
    return CheckedFile(content_type, stored, clean_original_name(upload.name, ext))


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
