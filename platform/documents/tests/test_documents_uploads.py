"""Upload safety: content-checked types, size cap, PDF checks, image re-encoding,
antivirus; through the service, the page and the API."""

import io
import os
import socket
import struct
import threading

import pytest
from django.core.exceptions import ValidationError

from core import uploads
from documents.models import Document
from documents.testing import make_image, make_pdf, upload

HTML = b"<!DOCTYPE html><html><body><script>fetch('/castres/api/')</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + os.urandom(2000)


def refused(data: bytes, name="fichier.pdf", **kw) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        uploads.check_bytes(data, name=name, **kw)
    return exc.value


def test_a_pdf_named_file_holding_html_is_refused():
    error = refused(HTML, "attestation.pdf")
    assert error.code == "wrong_type"
    assert "« attestation.pdf » contient une page web (HTML), pas un document" in error.messages[0]
    assert "le contenu du fichier est vérifié, pas seulement son nom" in error.messages[0]


def test_a_pdf_named_file_holding_an_executable_is_refused():
    error = refused(EXE, "carnet-vaccination.pdf")
    assert error.code == "wrong_type"
    assert "contient un programme ou une archive" in error.messages[0]


def test_a_pdf_header_in_front_of_html_is_still_refused():
    error = refused(b"%PDF-1.4\n" + HTML, "polyglotte.pdf")
    assert error.code == "unreadable"
    assert "n'est pas un PDF lisible" in error.messages[0]


@pytest.mark.parametrize(
    "data", [b"GIF89a" + b"\0" * 50, b"PK\x03\x04" + b"\0" * 50, b"plain text"]
)
def test_other_formats_are_refused(data):
    assert refused(data).code == "wrong_type"


def test_a_real_pdf_is_kept_byte_for_byte():
    data = make_pdf("Attestation MAIF 2025-2026")
    checked = uploads.check_bytes(data, name="attestation.pdf")
    assert (checked.kind, checked.content, checked.content_type) == ("pdf", data, "application/pdf")


def test_a_pdf_with_javascript_is_refused():
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1);"),
        }
    )
    out = io.BytesIO()
    writer.write(out)
    error = refused(out.getvalue())
    assert error.code == "active_pdf" and "contenu actif" in error.messages[0]


def test_an_encrypted_pdf_is_refused():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    error = refused(out.getvalue())
    assert error.code in ("encrypted", "unreadable")


def test_a_png_is_re_encoded():
    data = make_image("PNG") + b"<script>alert(1)</script>"  # trailing junk after IEND
    checked = uploads.check_bytes(data, name="photo.png")
    assert checked.kind == "png" and checked.content != data and b"<script>" not in checked.content


def test_a_jpeg_loses_its_exif_metadata():
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = "GPS 47.30N 2.06W domicile"  # ImageDescription
    data = make_image("JPEG", exif=exif.tobytes())
    assert b"domicile" in data
    checked = uploads.check_bytes(data, name="photo.jpg")
    assert checked.kind == "jpeg" and b"domicile" not in checked.content
    assert Image.open(io.BytesIO(checked.content)).size == (40, 30)


def test_a_huge_image_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_PIXELS", 100)
    assert refused(make_image("PNG", size=(20, 20)), "plan.png").code == "too_many_pixels"


def test_a_truncated_image_is_refused():
    assert refused(make_image("PNG")[:60], "photo.png").code == "unreadable"


def test_an_empty_file_is_refused():
    assert refused(b"").code == "empty"


def test_types_can_be_restricted():
    error = refused(make_image("PNG"), "reglement.png", allowed=("pdf",))
    assert error.code == "wrong_type" and "Formats acceptés : PDF (" in error.messages[0]


# --- 30 Mo --------------------------------------------------------------------

THIRTY_MB = 30 * 1024 * 1024


def big_pdf() -> bytes:
    return make_pdf() + b"%" + b"0" * (THIRTY_MB - len(make_pdf()) - 1)


def test_a_30_mb_file_is_refused_by_the_service():
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(upload(big_pdf(), "scan-avis-imposition.pdf"))
    assert exc.value.code == "too_large"
    assert exc.value.messages[0].startswith(
        "Le fichier « scan-avis-imposition.pdf » est trop volumineux (30 Mo) : la "
        "taille maximale est de 10 Mo."
    )


def test_a_30_mb_file_is_refused_on_the_page_and_nothing_is_saved(
    family, family_client, media, in_town
):
    response = family_client.post(
        "/castres/mes-documents/",
        {
            "kind": "avis_imposition",
            "file": upload(big_pdf(), "scan-avis-imposition.pdf"),
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Le fichier « scan-avis-imposition.pdf » est trop volumineux (30 Mo)" in text
    assert "la taille maximale est de 10 Mo" in text
    with in_town(family.commune):
        assert not Document.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))


def test_a_30_mb_file_is_refused_by_the_api_with_a_problem_document(family, family_client, media):
    response = family_client.post(
        "/castres/api/justificatifs/",
        {
            "kind": "avis_imposition",
            "file": upload(big_pdf(), "scan.pdf"),
        },
    )
    assert response.status_code == 413
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["code"] == "too_large"
    assert "trop volumineux (30 Mo) : la taille maximale est de 10 Mo" in body["detail"]


def test_html_named_pdf_is_refused_by_the_api(family, family_client, media):
    response = family_client.post(
        "/castres/api/justificatifs/",
        {
            "kind": "attestation_rc",
            "file": upload(HTML, "attestation.pdf"),
        },
    )
    assert response.status_code == 400
    assert "page web (HTML)" in response.json()["detail"]


def test_the_household_quota_is_enforced(family, family_client, media, settings, in_town):
    settings.DOCUMENT_HOUSEHOLD_QUOTA_BYTES = len(make_pdf("a")) + 10
    assert (
        family_client.post(
            "/castres/api/justificatifs/", {"kind": "autre", "file": upload(make_pdf("a"))}
        ).status_code
        == 201
    )
    response = family_client.post(
        "/castres/api/justificatifs/", {"kind": "autre", "file": upload(make_pdf("b"))}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Votre espace de pièces justificatives est plein")


# --- antivirus -------------------------------------------------------------------


class FakeClamd:
    """clamd's INSTREAM protocol on a Unix socket: FOUND when the stream holds EICAR."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.sock.accept()
        with conn:
            data = b""
            while not data.startswith(b"zINSTREAM\0"):
                data += conn.recv(10)
            buf, body = data[len(b"zINSTREAM\0") :], b""
            while True:
                while len(buf) < 4:
                    buf += conn.recv(65536)
                size = struct.unpack("!L", buf[:4])[0]
                buf = buf[4:]
                if size == 0:
                    break
                while len(buf) < size:
                    buf += conn.recv(65536)
                body, buf = body + buf[:size], buf[size:]
            found = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in body
            conn.sendall(b"stream: Eicar-Test-Signature FOUND\0" if found else b"stream: OK\0")

    def close(self):
        self.sock.close()


@pytest.fixture
def clamd(settings, tmp_path):
    server = FakeClamd(tmp_path / "clamd.sock")
    settings.CLAMD_SOCKET = server.path
    yield server
    server.close()


def test_clamd_refuses_an_infected_file(clamd):
    data = (
        make_pdf() + b"\n% X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n"
    )
    error = refused(data, "facture.pdf")
    assert error.code == "virus" and "contient un virus (Eicar-Test-Signature)" in error.messages[0]


def test_clamd_lets_a_clean_file_through(clamd):
    assert uploads.check_bytes(make_pdf(), name="ok.pdf").kind == "pdf"


def test_a_configured_but_unreachable_clamd_refuses_uploads(settings, tmp_path):
    settings.CLAMD_SOCKET = str(tmp_path / "absent.sock")
    assert refused(make_pdf()).code == "antivirus_unavailable"


def test_no_clamd_socket_means_no_scan(settings):
    settings.CLAMD_SOCKET = ""
    assert uploads.check_bytes(make_pdf(), name="ok.pdf").kind == "pdf"
