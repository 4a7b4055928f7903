"""What a file is, from its bytes, and how it is named and sized in French: pure
helpers shared by the upload checker (core.uploads), the documents and the
public space. No ORM, no request."""

from __future__ import annotations

import unicodedata

PDF, PNG, JPEG = "pdf", "png", "jpeg"
# XML: data files staff exchange with other administrations (the treasury's
# PES acknowledgements), never a family's document: only where a caller of
# check_upload allows it.
XML = "xml"
CONTENT_TYPES = {
    PDF: "application/pdf",
    PNG: "image/png",
    JPEG: "image/jpeg",
    XML: "application/xml",
}
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg", XML: "xml"}


def sniff(head: bytes) -> str | None:
    """The file's real type from its first bytes (never from its name).

    A PDF must START with its header: readers tolerate up to 1 KiB of junk
    before it, which is exactly how HTML/PDF polyglots are built.
    """
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<?xml"):
        return XML
    return None


def human_size(size: int) -> str:
    """French size: 30 Mo, 2,5 Mo, 800 ko (1 Mo = 1 048 576 octets, as file managers show)."""
    if size >= 1024 * 1024:
        value = size / (1024 * 1024)
        unit = "Mo"
    elif size >= 1024:
        value = size / 1024
        unit = "ko"
    else:
        return f"{size} octet{'s' if size > 1 else ''}"
    text = f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{text} {unit}"


def download_name(title: str, extension: str) -> str:
    """A safe attachment name: letters, digits, dashes; never the uploaded path."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    cleaned = "".join(c if c.isalnum() else "-" for c in ascii_title.lower())
    cleaned = "-".join(part for part in cleaned.split("-") if part)[:60] or "document"
    return f"{cleaned}.{extension}"
