"""Attachments of a request's messages go through the one upload checker
(core.uploads) with the 5 Mo cap: type from the bytes, size, empty file,
server-generated storage name, cleaned display name."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from core import filetypes
from core.uploads import ATTACHMENT_MAX_BYTES, check_upload, clean_original_name
from documents.testing import make_pdf


@pytest.mark.parametrize(
    "head, expected",
    [
        (b"%PDF-1.7 ...", filetypes.PDF),
        (b"\x89PNG\r\n\x1a\n....", filetypes.PNG),
        (b"\xff\xd8\xff\xe0....", filetypes.JPEG),
        (b"<html><script>", None),
        (b"MZ\x90\x00", None),
        (b"", None),
    ],
)
def test_type_comes_from_the_bytes(head, expected):
    assert filetypes.sniff(head) == expected


def test_a_script_named_pdf_is_refused():
    upload = SimpleUploadedFile("facture.pdf", b"<script>alert(1)</script>", "application/pdf")
    with pytest.raises(ValidationError, match="Formats acceptés : PDF, image PNG ou image JPEG"):
        check_upload(upload, limit=ATTACHMENT_MAX_BYTES)


def test_size_cap_and_empty_file():
    with pytest.raises(ValidationError, match="5 Mo"):
        check_upload(
            SimpleUploadedFile("a.pdf", b"%PDF-" + b"0" * ATTACHMENT_MAX_BYTES),
            limit=ATTACHMENT_MAX_BYTES,
        )
    with pytest.raises(ValidationError, match="vide"):
        check_upload(SimpleUploadedFile("a.pdf", b""), limit=ATTACHMENT_MAX_BYTES)


def test_server_generates_the_stored_name():
    checked = check_upload(
        SimpleUploadedFile("../../etc/passwd.pdf", make_pdf()), limit=ATTACHMENT_MAX_BYTES
    )
    assert "/" not in checked.stored_name and checked.stored_name.endswith(".pdf")
    assert len(checked.stored_name) == 36
    assert checked.original_name == "passwd.pdf"
    assert checked.as_file().read() == checked.content


@given(st.text(max_size=300))
def test_clean_original_name_is_always_safe(name):
    cleaned = clean_original_name(name, "pdf")
    assert cleaned.endswith(".pdf") and "/" not in cleaned and "\\" not in cleaned
    assert len(cleaned) <= 84 and not cleaned.startswith(".")
