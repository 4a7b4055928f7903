"""Checking and storing a family's file (absence justification, registration
document): size cap, type from the bytes, server-generated name
(docs/shared security.md). Stored under the town's own media folder."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from booking.rules import sniff_upload


@dataclass(frozen=True)
class CheckedUpload:
    stored_name: str
    original_name: str
    content_type: str


def check_upload(upload) -> CheckedUpload:
    """Raise UploadRefused (French) for a file we do not keep."""
    size = getattr(upload, "size", 0) or 0
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type, ext = sniff_upload(head, size)
    original = (getattr(upload, "name", "") or "fichier")[-120:]
    return CheckedUpload(f"{secrets.token_hex(16)}.{ext}", original, content_type)
