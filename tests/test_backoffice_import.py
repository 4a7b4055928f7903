"""The town admin's « Reprise des familles » page (issue 22): files checked by the
upload checker, dry run with the French report, import of the staged files
(then deleted), key letters as a PDF, bad files refused in French, never a 500."""

import html
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from families.import_rules import ORDER
from families.models import Child, ImportedRecord

pytestmark = pytest.mark.django_db
PAGE = "/castres/gestion/configuration/reprise/"
EXAMPLES = Path(settings.BASE_DIR) / "docs" / "import"


@pytest.fixture(autouse=True)
def _staging(settings, tmp_path):
    settings.IMPORT_STAGING_DIR = str(tmp_path / "imports")


def text(response) -> str:
    return html.unescape(response.content.decode())


def uploads():
    return {
        code: SimpleUploadedFile(f"{code}.csv", (EXAMPLES / f"{code}.csv").read_bytes())
        for code in ORDER
    }


def test_dry_run_then_import_then_letters(
    castres_admin, castres, in_town, tmp_path, django_capture_on_commit_callbacks
):
    page = castres_admin.get("/castres/gestion/configuration/")
    assert "Reprise des familles d'un ancien portail" in text(page)
    response = castres_admin.post(PAGE, {"preset": "guichet", **uploads()})
    body = text(response)
    assert response.status_code == 200
    assert "Essai à blanc : rien n'est encore enregistré" in body
    assert (
        "31/02/2019" in body
        and "« 31/02/2019 » : cette date n'existe pas dans le calendrier" in body
    )
    staged = list((tmp_path / "imports" / "castres").iterdir())
    assert len(staged) == 1
    with in_town(castres):
        assert not ImportedRecord.objects.exists()
    stage = re.search(r'name="stage" value="([0-9a-f]+)"', body).group(1)
    with django_capture_on_commit_callbacks(execute=True):  # the Celery task, in-process
        response = castres_admin.post(PAGE + "importer/", {"stage": stage})
    assert response.status_code == 302
    page = text(castres_admin.get(PAGE))
    assert "Dernier import" in page and "enfants.csv</strong> (enfants) : 4 créées" in page
    assert not (tmp_path / "imports" / "castres" / stage).exists()  # deleted once imported
    with in_town(castres):
        assert Child.objects.filter(first_name="Jules", last_name="Bernard").exists()
    # the same stage cannot be imported twice
    again = castres_admin.post(PAGE + "importer/", {"stage": stage})
    assert again.status_code == 302
    letters = castres_admin.post(PAGE + "lettres/", {"delivery": "letter"})
    if letters.status_code == 503:
        pytest.skip("WeasyPrint's system libraries are missing")
    assert letters.status_code == 200 and letters["Content-Type"] == "application/pdf"
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(letters.content)).pages) == 4  # one per imported household


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("enfants.csv", b"", "est vide"),
        ("enfants.csv", b"%PDF-1.4 not a table", "ni un fichier CSV ni un classeur XLSX"),
        ("enfants.csv", b"<html><script>alert(1)</script>", "ni un fichier CSV"),
        ("enfants.xlsx", b"PK\x03\x04garbage", "ni un fichier CSV"),
        ("enfants.exe", b"MZ\x90\x00", "ni un fichier CSV"),
    ],
)
def test_bad_files_are_refused_in_french(castres_admin, name, content, message):
    response = castres_admin.post(
        PAGE, {"preset": "guichet", "enfants": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 422
    assert message in text(response)


def test_unreadable_content_is_a_report_not_a_500(castres_admin):
    odd = "id_enfant;prénom\n\ufeffE1;Lé\u0301a\x00\n".encode("utf-16-le")
    files = {
        "enfants": SimpleUploadedFile("enfants.csv", b"colonne;autre\n1;2\n"),
        "sante": SimpleUploadedFile("sante.csv", "a;b\n\xe9;\xff\n".encode("latin-1")),
    }
    response = castres_admin.post(PAGE, {"preset": "noethys", **files})
    assert response.status_code == 200
    assert "Fichier refusé" in text(response) and "obligatoire" in text(response)
    response = castres_admin.post(
        PAGE, {"preset": "guichet", "enfants": SimpleUploadedFile("e.csv", odd)}
    )
    assert response.status_code in (200, 422)


def test_nothing_chosen_and_unknown_stage(castres_admin):
    response = castres_admin.post(PAGE, {"preset": "guichet"})
    assert response.status_code == 422 and "au moins un fichier" in text(response)
    response = castres_admin.post(PAGE + "importer/", {"stage": "../../etc"})
    assert response.status_code == 302
    templates = castres_admin.get(PAGE + "modeles.zip")
    assert templates.status_code == 200 and templates["Content-Type"] == "application/zip"
