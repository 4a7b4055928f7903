"""Issue #20 in real Chromium, as `agent.demo` in Castres: the unpaid list with
famille.demo.4's invoice at its first reminder (the billing demo's late invoice)
and its reminder letter downloaded as a PDF; the batch page where the
treasury's acknowledgement file is uploaded, then its result; and the family's
invoice page with its reminder. At 390×844 and 1280×800, checked with axe-core;
screenshots in test-artifacts/relances/ (and /work/shots/relances/ when that folder exists)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.db import connection
from django_tenants.utils import tenant_context
from test_staff_workspace_browser import _sign_in_agent, castres_demo  # noqa: F401

from tests.browser.harness import assert_no_sideways_scroll, shot


def _shot(page, name):
    return shot(page, "relances", name)


_no_sideways_scroll = assert_no_sideways_scroll


def _late_invoice_and_batch(commune):
    """The billing demo's late invoice (famille.demo.4, first reminder) and a
    sent PES batch of its month."""
    from django.utils import timezone

    from modules.billing import pes_services, services
    from modules.billing.demo import _late_invoice
    from modules.billing.lines import previous_month
    from modules.billing.models import DebtorDetails, ReminderStep

    with tenant_context(commune):
        today = timezone.localdate()
        month = date(*previous_month(today), 1)
        for _ in range(2):
            month = date(*previous_month(month), 1)
        tariffs, invoicing = services.town_settings(commune)
        _late_invoice(commune, tariffs, invoicing, month=(month.year, month.month), today=today)
        late = ReminderStep.objects.select_related("invoice").latest("id").invoice
        DebtorDetails.objects.get_or_create(household=late.household, defaults={"civility": "M"})
        batch = pes_services.build_batch(
            commune=commune, regie_code=late.regie_code, year=late.year, month=late.month
        )
        pes_services.mark_sent(batch)
        pieces = batch.count
    connection.set_schema_to_public()
    return late, batch, pieces


def _ack(batch, *, rejected: int | None) -> bytes:
    detail = (
        f'<DetailPiece><NumPiece V="{rejected}"/><Erreur><NumAnoAck V="ERREUR_AUTRE"/>'
        '<LibelleAnoAck V="Adresse du débiteur incomplète"/></Erreur></DetailPiece>'
        if rejected
        else ""
    )
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        f'<PES_ACQUIT><Enveloppe><Parametres><NomFic V="{batch.file_name}"/></Parametres>'
        f'</Enveloppe><ACQUIT><ElementACQUIT><DomaineAck V="6"/>'
        f'<ExerciceBord V="{batch.exercice}"/><NumBord V="{batch.bordereau}"/>'
        f'<EtatAck V="{"0" if rejected else "1"}"/>{detail}</ElementACQUIT></ACQUIT>'
        "</PES_ACQUIT>"
    ).encode("iso-8859-1")


def test_unpaid_letter_and_acknowledgement_upload(browser, live_town, axe, castres_demo):  # noqa: F811
    demo = castres_demo
    url = live_town.url
    late, batch, pieces = _late_invoice_and_batch(demo.commune)
    context = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 390, "height": 844},
        accept_downloads=True,
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    _sign_in_agent(page, url, demo.commune)
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{url}/castres/billing/gestion/impayes/")
        assert page.get_by_role("heading", name="Première relance envoyée").is_visible()
        _no_sideways_scroll(page)
        assert axe(page) == [], axe.format(axe(page))
        _shot(page, f"impayes-{width}")
        link = page.get_by_role("link", name=f"Lettre de relance (PDF) — facture {late.number}")
        with page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == f"relance-{late.number}.pdf"
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
        if width == 390:
            kept = shot(page, "relances", "lettre-relance-page").with_name("lettre-relance.pdf")
            download.value.save_as(kept)

        page.goto(f"{url}/castres/billing/gestion/titres/{batch.pk}/")
        assert page.get_by_role("heading", name="Accusé de réception de la trésorerie").is_visible()
        _no_sideways_scroll(page)
        assert axe(page) == [], axe.format(axe(page))
        _shot(page, f"accuse-{width}")
        page.get_by_label("Fichier d'accusé de réception").set_input_files(
            {
                "name": "ACK_bordereau.xml",
                "mimeType": "text/xml",
                "buffer": _ack(batch, rejected=1 if width == 390 else None),
            }
        )
        page.get_by_role("button", name="Déposer l'accusé de réception").click()
        if width == 390:
            assert page.get_by_text("Adresse du débiteur incomplète").first.is_visible()
        else:
            assert page.get_by_text(f"{pieces} pièce").first.is_visible()
        _no_sideways_scroll(page)
        assert axe(page) == [], axe.format(axe(page))
        _shot(page, f"accuse-resultat-{width}")
        # A foreign file: a French message, nothing recorded.
        page.get_by_label("Fichier d'accusé de réception").set_input_files(
            {"name": "facture.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"}
        )
        page.get_by_role("button", name="Déposer l'accusé de réception").click()
        assert page.get_by_text("Formats acceptés : fichier XML").is_visible()
        if width == 390:
            _shot(page, "accuse-refus-390")
    context.close()

    family = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 390, "height": 844}
    )
    page = family.new_page()
    page.goto(f"{url}/castres/compte/connexion/")
    page.get_by_label("Adresse e-mail ou nom d'utilisateur").fill("famille.demo.4")
    page.get_by_label("Mot de passe", exact=True).fill("demo-famille-2026")
    page.get_by_role("button", name="Se connecter", exact=True).click()
    page.goto(f"{url}/castres/billing/factures/{late.pk}/")
    assert page.get_by_role("heading", name="Première relance").is_visible()
    assert page.get_by_role("link", name="Télécharger la lettre de relance (PDF)").is_visible()
    _no_sideways_scroll(page)
    assert axe(page) == [], axe.format(axe(page))
    _shot(page, "famille-facture-relance-390")
    family.close()
