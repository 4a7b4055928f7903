"""PDF editions (WeasyPrint): summary of a family's data, the town's rules, a
registration certificate."""

import io
import time

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_tenants.utils import tenant_context
from pypdf import PdfReader

from content.models import Reglement
from documents import editions
from documents.testing import login


def text_of(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    data = b"".join(response.streaming_content)
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_family_summary(family, family_client):
    started = time.perf_counter()
    text = text_of(family_client.get("/castres/mes-donnees/recapitulatif.pdf"))
    print(f"\nsummary PDF: {time.perf_counter() - started:.2f} s")
    for expected in (
        "Récapitulatif de mes données",
        "Famille Martin",
        "Claire",
        "Léa",
        "Hugo",
        "claire.martin@example.org",
        "Castres",
    ):
        assert expected in text


def test_the_towns_rules_are_public_and_come_from_its_configuration(client, castres):
    text = text_of(client.get("/castres/regles-de-reservation.pdf"))
    assert "Règles de réservation et d'annulation" in text
    assert "Restauration scolaire" in text and "Au plus tard 7 jours avant à 23:59" in text


def test_the_rules_list_the_published_reglements_only(client, castres):
    """The public space's règlements reach the PDF through content's
    register_rules_documents hook (documents imports nothing of content)."""
    with tenant_context(castres):
        for title, status in (("Règlement publié", "published"), ("Règlement brouillon", "draft")):
            Reglement.objects.create(
                title=title,
                file=ContentFile(b"%PDF-1.4", name="r.pdf"),
                status=status,
                published_at=timezone.now(),
            )
    text = text_of(client.get("/castres/regles-de-reservation.pdf"))
    assert "Règlement publié" in text and "Règlement brouillon" not in text


def test_bondoufle_rules_name_its_own_deadlines(client, bondoufle):
    text = text_of(client.get("/bondoufle/regles-de-reservation.pdf"))
    assert "Bondoufle" in text and "Castres" not in text


def test_a_registration_certificate(family, family_client):
    child = family.children[0]
    text = text_of(family_client.get(f"/castres/mes-donnees/attestation-{child.pk}.pdf"))
    assert "Attestation d'inscription" in text and "Léa Martin" in text.replace("\n", " ")
    assert (
        editions.certificate_reference(
            child, schema="castres", day=__import__("datetime").date.today()
        )
        in text
    )


def test_another_familys_child_has_no_certificate(family, neighbours, castres):
    other = login(neighbours.user, castres)
    assert (
        other.get(f"/castres/mes-donnees/attestation-{family.children[0].pk}.pdf").status_code
        == 404
    )


def test_other_apps_add_certificate_lines(family, family_client, monkeypatch):
    monkeypatch.setattr(editions, "_CERTIFICATE_SOURCES", [])
    editions.register_certificate_lines(
        lambda child: [f"Restauration scolaire 2025-2026 ({child.first_name})"]
    )
    text = text_of(
        family_client.get(f"/castres/mes-donnees/attestation-{family.children[0].pk}.pdf")
    )
    assert "Restauration scolaire 2025-2026 (Léa)" in text


def test_weasyprint_fetches_nothing():
    html = '<img src="http://169.254.169.254/latest/meta-data/"><link rel="stylesheet" href="file:///etc/passwd">'
    fetcher = editions._fetcher()
    with pytest.raises(ValueError):
        fetcher("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(ValueError):
        fetcher("file:///etc/passwd")
    from weasyprint import HTML

    assert HTML(string=html, url_fetcher=fetcher).write_pdf().startswith(b"%PDF")


def test_staff_cannot_print_a_familys_summary(agent_client):
    assert agent_client.get("/castres/mes-donnees/recapitulatif.pdf").status_code == 404


def test_a_server_without_pango_answers_in_french(family_client, monkeypatch):
    def missing():
        raise editions.EditionUnavailable("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(editions, "_html_class", missing)
    response = family_client.get("/castres/mes-donnees/recapitulatif.pdf")
    assert response.status_code == 503 and "Édition indisponible" in response.content.decode()
    assert editions.simple_pdf("Démo", ["x"]).startswith(b"%PDF")  # the demo still gets a PDF
