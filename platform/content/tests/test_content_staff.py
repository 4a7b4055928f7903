"""Staff edit the public space: sanitised rich text, checked files, menus by week."""

import datetime as dt

import pytest
import yaml
from django.conf import settings

from content.models import InfoPage, MenuDay, NewsAttachment, NewsItem, Reglement, WeeklyMenu
from documents.testing import make_image, make_pdf, upload


def test_staff_write_news_and_scripts_are_stripped(staff_client, castres, in_town, media, client):
    response = staff_client.post(
        "/castres/gestion/contenu/actualites/nouveau/",
        {
            "title": "Guide de l'enfance 2026",
            "summary": "À lire",
            "body": '<p onclick="steal()">Bonjour <script>alert(1)</script>'
            '<a href="javascript:x()">lien</a>'
            '<a href="https://www.ville-castres.fr">site</a></p><iframe src="https://evil"></iframe>',
            "status": "published",
            "published_at": "2026-01-01T08:00",
            "image": upload(make_image("JPEG"), "photo.jpg", "image/jpeg"),
            "image_alt": "Couverture du guide",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with in_town(castres):
        news = NewsItem.objects.get()
    assert news.body == (
        '<p>Bonjour <a rel="noopener noreferrer">lien</a>'
        '<a href="https://www.ville-castres.fr" rel="noopener noreferrer">site</a></p>'
    )
    assert news.image.name.startswith("contenu/") and news.image.name.endswith(".jpg")
    assert "Guide de l&#x27;enfance 2026" in client.get("/castres/actualites/").content.decode()


def test_an_image_needs_its_text_alternative(staff_client, media):
    response = staff_client.post(
        "/castres/gestion/contenu/actualites/nouveau/",
        {
            "title": "Photo",
            "status": "draft",
            "published_at": "2026-01-01T08:00",
            "image": upload(make_image("PNG"), "photo.png", "image/png"),
        },
    )
    assert response.status_code == 400 and "texte alternatif" in response.content.decode()


def test_an_html_file_named_png_is_refused_as_news_image(staff_client, castres, in_town, media):
    response = staff_client.post(
        "/castres/gestion/contenu/actualites/nouveau/",
        {
            "title": "Piège",
            "status": "draft",
            "published_at": "2026-01-01T08:00",
            "image_alt": "x",
            "image": upload(b"<html><script>alert(1)</script></html>", "photo.png", "image/png"),
        },
    )
    assert response.status_code == 400
    assert "page web (HTML)" in response.content.decode()
    with in_town(castres):
        assert not NewsItem.objects.exists()


def test_attachments_to_news(staff_client, castres, in_town, media):
    with in_town(castres):
        news = NewsItem.objects.create(title="Rentrée", status="published")
    staff_client.post(
        f"/castres/gestion/contenu/actualites/{news.pk}/documents/",
        {"title": "Calendrier", "file": upload(make_pdf("Calendrier"), "calendrier.pdf")},
    )
    refused = staff_client.post(
        f"/castres/gestion/contenu/actualites/{news.pk}/documents/",
        {"title": "Virus", "file": upload(b"MZ\x90\x00" + b"\0" * 100, "guide.pdf")},
        follow=True,
    )
    assert "programme ou une archive" in refused.content.decode()
    with in_town(castres):
        att = NewsAttachment.objects.get()
    assert (att.title, att.content_type) == ("Calendrier", "application/pdf")
    path = media / "castres" / att.file.name
    assert path.is_file()
    staff_client.post(
        f"/castres/gestion/contenu/actualites/{news.pk}/documents/{att.pk}/supprimer/"
    )
    with in_town(castres):
        assert not NewsAttachment.objects.exists()


def test_a_weeks_menu_with_its_days(staff_client, castres, in_town, client):
    with in_town(castres):
        from content.models import MenuSite

        site = MenuSite.objects.create(name="Restaurant Jean-Jaurès")
    form = staff_client.get("/castres/gestion/contenu/menus/nouveau/")
    assert (
        form.status_code == 200 and form.content.decode().count('type="date"') == 6
    )  # week + 5 days
    monday = dt.date(2026, 3, 9)
    data = {
        "site": site.pk,
        "week_start": monday.isoformat(),
        "note": "Semaine du goût",
        "status": "published",
        "published_at": "2026-03-01T08:00",
        "jours-TOTAL_FORMS": "2",
        "jours-INITIAL_FORMS": "0",
        "jours-MIN_NUM_FORMS": "0",
        "jours-MAX_NUM_FORMS": "1000",
        "jours-0-date": "2026-03-09",
        "jours-0-main": "Hachis parmentier",
        "jours-0-allergens": "lait",
        "jours-1-date": "2026-03-20",
        "jours-1-main": "Hors semaine",
    }
    bad = staff_client.post("/castres/gestion/contenu/menus/nouveau/", data)
    assert bad.status_code == 400 and "appartient pas à la semaine du menu" in bad.content.decode()
    data.update({"jours-1-date": "2026-03-10", "jours-1-main": "Lasagnes"})
    assert staff_client.post("/castres/gestion/contenu/menus/nouveau/", data).status_code == 302
    with in_town(castres):
        menu = WeeklyMenu.objects.get()
        assert list(MenuDay.objects.filter(menu=menu).values_list("main", flat=True)) == [
            "Hachis parmentier",
            "Lasagnes",
        ]
    body = client.get("/castres/menus/?semaine=2026-W11").content.decode()
    assert "Hachis parmentier" in body and "Semaine du goût" in body


def test_a_menu_week_starts_on_monday(staff_client, castres, in_town):
    with in_town(castres):
        from content.models import MenuSite

        site = MenuSite.objects.create(name="Restaurant")
    response = staff_client.post(
        "/castres/gestion/contenu/menus/nouveau/",
        {
            "site": site.pk,
            "week_start": "2026-03-11",
            "status": "draft",
            "published_at": "2026-03-01T08:00",
            "jours-TOTAL_FORMS": "0",
            "jours-INITIAL_FORMS": "0",
        },
    )
    assert (
        response.status_code == 400
        and "Indiquez le lundi de la semaine." in response.content.decode()
    )


def test_rules_must_be_pdfs(staff_client, castres, in_town, media):
    png = staff_client.post(
        "/castres/gestion/contenu/reglements/nouveau/",
        {
            "title": "Règlement",
            "status": "published",
            "published_at": "2026-01-01T08:00",
            "file": upload(make_image("PNG"), "reglement.png", "image/png"),
        },
    )
    assert png.status_code == 400 and "Formats acceptés : PDF" in png.content.decode()
    ok = staff_client.post(
        "/castres/gestion/contenu/reglements/nouveau/",
        {
            "title": "Règlement",
            "status": "published",
            "published_at": "2026-01-01T08:00",
            "file": upload(make_pdf("Règlement"), "reglement.pdf"),
        },
    )
    assert ok.status_code == 302
    with in_town(castres):
        assert Reglement.objects.get().size == len(make_pdf("Règlement"))


def test_replacing_a_file_removes_the_old_one(
    staff_client, castres, in_town, media, django_capture_on_commit_callbacks
):
    data = {"title": "Règlement", "status": "published", "published_at": "2026-01-01T08:00"}
    staff_client.post(
        "/castres/gestion/contenu/reglements/nouveau/", {**data, "file": upload(make_pdf("v1"))}
    )
    with in_town(castres):
        first = Reglement.objects.get()
    old = media / "castres" / first.file.name
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            f"/castres/gestion/contenu/reglements/{first.pk}/",
            {**data, "file": upload(make_pdf("v2"))},
        )
    with in_town(castres):
        first.refresh_from_db()
    assert not old.exists() and (media / "castres" / first.file.name).read_bytes() == make_pdf("v2")


def test_drafts_are_visible_to_staff_only(staff_client, client, castres, in_town):
    with in_town(castres):
        page = InfoPage.objects.create(title="Projet", slug="projet", status="draft")
    assert client.get("/castres/infos/projet/").status_code == 404
    assert "Projet" in staff_client.get("/castres/gestion/contenu/").content.decode()
    assert staff_client.get(f"/castres/gestion/contenu/pages/{page.pk}/").status_code == 200


@pytest.mark.parametrize(
    "url", ["/castres/gestion/contenu/", "/castres/gestion/contenu/actualites/nouveau/"]
)
def test_families_cannot_edit(family_client, url):
    assert family_client.get(url).status_code == 403


def test_unknown_kind_is_404(staff_client):
    assert staff_client.get("/castres/gestion/contenu/inconnu/nouveau/").status_code == 404


# --- the town's YAML: data_protection --------------------------------------------


def config_with(**data_protection):
    data = yaml.safe_load((settings.TENANT_CONFIGS_DIR / "castres.yaml").read_text())
    data["data_protection"] = data_protection
    return data


def test_data_protection_is_accepted(db):
    from tenants.config import validate

    cfg = validate(
        config_with(
            controller="Commune de Castres",
            dpo={"email": "dpd@castres.example.org"},
            host={"name": "OVH", "address": "Roubaix"},
            retention_years=3,
            accessibility_contact="accessibilite@castres.example.org",
        ),
        source="castres.yaml",
    )
    assert cfg.data["data_protection"]["retention_years"] == 3


@pytest.mark.parametrize(
    "section, key, message",
    [
        ({"retention_years": 0}, "data_protection.retention_years", "doit être au moins 1."),
        (
            {"dpo": {"email": "pas-une-adresse"}},
            "data_protection.dpo.email",
            "n'est pas une adresse e-mail valide.",
        ),
        ({"hebergeur": "x"}, "data_protection.hebergeur", "clé inconnue."),
    ],
)
def test_data_protection_mistakes_are_explained_in_french(db, section, key, message):
    from tenants.config import ConfigError, validate

    with pytest.raises(ConfigError) as exc:
        validate(config_with(**section), source="castres.yaml")
    assert (exc.value.problems[0].key, exc.value.problems[0].message.split("» ")[-1]) == (
        key,
        message,
    )


def test_the_api_schema_still_generates(client, castres):
    response = client.get("/castres/api/schema/")
    assert response.status_code == 200
    body = response.content.decode()
    for path in (
        "/api/justificatifs/",
        "/api/coffre-fort/",
        "/api/mes-donnees/export/",
        "/api/gestion/justificatifs/{id}/decision/",
    ):
        assert path in body
