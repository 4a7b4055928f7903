"""The public space: read without signing in; drafts and future items never shown."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from content.models import (
    InfoPage,
    MenuDay,
    MenuSite,
    NewsAttachment,
    NewsItem,
    Reglement,
    WeeklyMenu,
)
from content.selectors import iso_week, parse_week, week_start
from documents.testing import make_image, make_pdf

NOW = timezone.now()


@pytest.fixture
def published(castres, in_town, media):
    with in_town(castres):
        news = NewsItem.objects.create(
            title="Rentrée scolaire 2026",
            summary="Horaires et rythmes",
            body="<p>Les écoles ouvrent le <strong>1er septembre</strong>.</p>",
            status="published",
            published_at=NOW - dt.timedelta(days=1),
            image=ContentFile(make_image("PNG"), name="x.png"),
            image_alt="Cour d'école",
        )
        NewsAttachment.objects.create(
            news=news,
            title="Calendrier scolaire",
            content_type="application/pdf",
            file=ContentFile(make_pdf("Calendrier"), name="x.pdf"),
            size=100,
        )
        draft = NewsItem.objects.create(title="Brouillon secret", status="draft")
        future = NewsItem.objects.create(
            title="Annonce de demain", status="published", published_at=NOW + dt.timedelta(days=1)
        )
        site = MenuSite.objects.create(name="Restaurant Jules-Ferry")
        other_site = MenuSite.objects.create(name="Restaurant Pasteur")
        monday = week_start(timezone.localdate())
        menu = WeeklyMenu.objects.create(
            site=site, week_start=monday, status="published", published_at=NOW
        )
        MenuDay.objects.create(
            menu=menu,
            date=monday,
            starter="Carottes râpées",
            main="Poisson pané",
            side="Riz",
            dessert="Compote",
            allergens="poisson, gluten",
        )
        WeeklyMenu.objects.create(site=other_site, week_start=monday, status="draft")
        page = InfoPage.objects.create(
            title="Tarifs 2025-2026",
            slug="tarifs",
            status="published",
            published_at=NOW,
            body="<table><tr><th>QF</th><td>1,20 €</td></tr></table>",
        )
        reglement = Reglement.objects.create(
            title="Règlement de la restauration scolaire",
            status="published",
            published_at=NOW,
            file=ContentFile(make_pdf("Règlement"), name="r.pdf"),
        )
    return {
        "news": news,
        "draft": draft,
        "future": future,
        "menu": menu,
        "page": page,
        "reglement": reglement,
        "monday": monday,
    }


def test_visitors_read_news_without_signing_in(client, published):
    listing = client.get("/castres/actualites/").content.decode()
    assert "Rentrée scolaire 2026" in listing
    assert "Brouillon secret" not in listing and "Annonce de demain" not in listing
    detail = client.get(f"/castres/actualites/{published['news'].pk}/")
    assert detail.status_code == 200
    assert "<strong>1er septembre</strong>" in detail.content.decode()
    assert 'alt="Cour d&#x27;école"' in detail.content.decode()


@pytest.mark.parametrize("which", ["draft", "future"])
def test_unpublished_news_is_404(client, published, which):
    pk = published[which].pk
    assert client.get(f"/castres/actualites/{pk}/").status_code == 404
    assert client.get(f"/castres/actualites/{pk}/image/").status_code == 404


def test_news_files(client, published, castres, in_town):
    news = published["news"]
    image = client.get(f"/castres/actualites/{news.pk}/image/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff" and "inline" in image["Content-Disposition"]
    with in_town(castres):
        att = news.attachments.get()
    doc = client.get(f"/castres/actualites/{news.pk}/documents/{att.pk}/")
    assert doc["Content-Disposition"].startswith('attachment; filename="calendrier-scolaire.pdf"')
    assert (
        client.get(f"/castres/actualites/{published['draft'].pk}/documents/{att.pk}/").status_code
        == 404
    )


def test_the_weeks_menu(client, published):
    body = client.get("/castres/menus/").content.decode()
    assert "Restaurant Jules-Ferry" in body and "Poisson pané" in body and "poisson, gluten" in body
    assert "Restaurant Pasteur</h2>" not in body  # its menu is a draft
    next_week = iso_week(published["monday"] + dt.timedelta(days=7))
    assert (
        "n'est pas encore publié"
        in client.get(f"/castres/menus/?semaine={next_week}").content.decode()
    )
    site = published["menu"].site_id
    assert "Poisson pané" in client.get(f"/castres/menus/?restaurant={site}").content.decode()
    assert (
        "Poisson pané" not in client.get(f"/castres/menus/?restaurant={site + 1}").content.decode()
    )


def test_bad_week_parameter_falls_back_to_this_week(client, published):
    assert "Poisson pané" in client.get("/castres/menus/?semaine=n'importe-quoi").content.decode()


@pytest.mark.parametrize(
    "value, monday",
    [
        ("2026-W01", dt.date(2025, 12, 29)),
        ("2025-W53", None),
        ("2026-W53", dt.date(2026, 12, 28)),
        ("2020-W53", dt.date(2020, 12, 28)),
        (None, dt.date(2026, 3, 9)),
        ("", dt.date(2026, 3, 9)),
    ],
)
def test_parse_week(value, monday):
    today = dt.date(2026, 3, 12)
    assert parse_week(value, today) == (monday or week_start(today))


def test_pages_rules_contacts(client, published):
    assert "1,20 €" in client.get("/castres/infos/tarifs/").content.decode()
    reglements = client.get("/castres/reglements/").content.decode()
    assert "Règlement de la restauration scolaire" in reglements
    file = client.get(f"/castres/reglements/{published['reglement'].pk}/fichier/")
    assert file["Content-Type"] == "application/pdf" and file["Content-Disposition"].startswith(
        "attachment"
    )
    contacts = client.get("/castres/contacts/").content.decode()
    assert "espace-famille@ville-castres.fr" in contacts and "05 63 62 40 06" in contacts


def test_the_town_home_links_the_public_space(client, published):
    body = client.get("/castres/").content.decode()
    assert (
        "Rentrée scolaire 2026" in body and "/castres/menus/" in body and "Tarifs 2025-2026" in body
    )
    assert "Accessibilité : partiellement conforme" in body and "/castres/mentions-legales/" in body


def test_each_town_has_its_own_public_space(client, published, bondoufle):
    assert "Rentrée scolaire 2026" not in client.get("/bondoufle/actualites/").content.decode()
    assert client.get(f"/bondoufle/actualites/{published['news'].pk}/").status_code == 404


def test_accessibility_statement(client, castres):
    body = client.get("/castres/accessibilite/").content.decode()
    assert "partiellement conforme" in body and "RGAA" in body and "4.1.2" in body
    assert "axe-core" in body and "wcag21aa" in body
    for url in ("/castres/menus/", "/castres/actualites/", "/castres/accessibilite/"):
        assert f'href="{url}"' in body
    assert "Défenseur des droits" in body and "espace-famille@ville-castres.fr" in body


def test_legal_pages_default_from_the_towns_identity(client, castres):
    legal = client.get("/castres/mentions-legales/").content.decode()
    assert "code INSEE 81065" in legal and "110 boulevard Maréchal Joffre" in legal
    assert "Le maire de Castres" in legal
    privacy = client.get("/castres/donnees-personnelles/").content.decode()
    assert "Commune de Castres, représentée par son maire" in privacy
    assert "3 ans après votre dernière activité" in privacy and "CNIL" in privacy


def test_legal_pages_use_the_data_protection_section(client, castres):
    from tenants.testing import edit_town_config

    config = {
        "data_protection": {
            "controller": "Ville de Castres, représentée par M. le Maire",
            "dpo": {"name": "Délégué mutualisé du Tarn", "email": "dpd@tarn.example.org"},
            "host": {
                "name": "Hébergeur Souverain SAS",
                "address": "1 rue des Serveurs, 31000 Toulouse",
            },
            "retention_years": 2,
        },
    }
    edit_town_config(castres, config)
    privacy = client.get("/castres/donnees-personnelles/").content.decode()
    assert "Ville de Castres, représentée par M. le Maire" in privacy
    assert "dpd@tarn.example.org" in privacy and "2 ans après votre dernière activité" in privacy
    assert "Hébergeur Souverain SAS" in client.get("/castres/mentions-legales/").content.decode()
