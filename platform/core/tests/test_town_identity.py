"""The town's identity: colours with a WCAG AA contrast check (pure, and refused
with a French message in the back-office and in a YAML), the logo uploaded by
its admin through the one upload checker, both shown on every family page;
the front page lists each contact once."""

from __future__ import annotations

import struct
import zlib
from types import SimpleNamespace as Row

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.front_page import merged_contacts
from core.identity import colour_problems, colours_of, contrast_ratio, ratio_label


def png(width=2, height=1) -> bytes:
    """A real PNG (red pixels), written by hand: signature, IHDR, IDAT, IEND."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def media(settings, tmp_path):
    from families.testing import use_tmp_media

    use_tmp_media(settings, tmp_path)


@pytest.mark.parametrize(
    "a,b,ratio",
    [("#000000", "#ffffff", 21.0), ("#ffffff", "#ffffff", 1.0), ("#767676", "#ffffff", 4.54)],
)
def test_contrast_ratio_follows_wcag(a, b, ratio):
    assert contrast_ratio(a, b) == pytest.approx(ratio, abs=0.01)
    assert contrast_ratio(b, a) == pytest.approx(ratio, abs=0.01)


def test_colours_below_aa_are_refused_in_french_and_never_applied():
    assert colour_problems({"primary_color": "#0b5d3b", "accent_color": "#fdf1e6"}) == []
    [(key, message)] = colour_problems({"primary_color": "#777777"})  # 4,48:1
    assert key == "primary_color"
    assert "4,4:1" in message and "au moins 4,5:1" in message and "WCAG" in message
    assert ratio_label(4.499) == "4,4:1"
    assert colours_of({"identity": {"primary_color": "#FFCC00"}})["primary_color"] == "#0b4f8a"
    assert colours_of({"identity": {"accent_color": "#FDF1E6"}})["accent_color"] == "#fdf1e6"
    # The accent is a soft background under black text and primary-coloured links.
    [(key, message)] = colour_problems({"accent_color": "#7a1f5c"})
    assert key == "accent_color" and "texte noir" in message and "plus claire" in message
    [(key, message)] = colour_problems({"primary_color": "#5b7fa8", "accent_color": "#dde8f3"})[1:]
    assert key == "accent_color" and "couleur principale #5b7fa8" in message


def test_contacts_naming_one_desk_are_merged():
    rows = [
        Row(
            label="Espace Famille",
            phone="05 63 62 43 44",
            email="ef@x.fr",
            address="110 bd",
            hours="",
        ),
        Row(
            label="Espace Famille (autres lignes)",
            phone="05 63 62 40 06",
            email="ef@x.fr",
            address="",
            hours="",
        ),
        Row(label="Espace Famille", phone="05 63 62 40 07", email="", address="", hours=""),
        Row(label="Petite enfance", phone="05 00 00 00 00", email="", address="", hours="9 h"),
    ]
    cards = merged_contacts(rows)
    assert [c.label for c in cards] == ["Espace Famille", "Petite enfance"]
    assert cards[0].phones == ["05 63 62 43 44", "05 63 62 40 06", "05 63 62 40 07"]
    assert cards[0].emails == ["ef@x.fr"] and cards[0].address == "110 bd"


@pytest.mark.django_db
def test_castres_front_page_shows_each_contact_once_and_the_ways_in(castres):
    page = Client().get("/castres/").content.decode()
    assert page.count("<strong>Espace Famille</strong>") == 1
    assert "05 63 62 40 07" in page and "portail famille de Castres" in page
    assert "Se connecter" in page and "Créer mon espace" in page
    assert "Dates à retenir" in page and "nscriptions 20" in page
    assert 'rel="icon" href="/castres/identite/favicon.svg"' in page
    favicon = Client().get("/castres/identite/favicon.svg")
    assert favicon["Content-Type"] == "image/svg+xml" and b"<svg" in favicon.content


@pytest.mark.django_db
def test_town_admin_sets_logo_and_colours_and_family_pages_show_them(
    castres, castres_admin, family, in_town, media
):
    from families.testing import login

    page = castres_admin.get("/castres/gestion/configuration/identite/")
    assert page.status_code == 200 and "Couleur principale" in page.content.decode()
    assert (
        "Identité de la commune"
        in castres_admin.get("/castres/gestion/configuration/").content.decode()
    )
    saved = castres_admin.post(
        "/castres/gestion/configuration/identite/",
        {
            "primary_color": "#0B5D3B",
            "accent_color": "#fdf1e6",
            "logo": SimpleUploadedFile("logo.png", png(), content_type="image/png"),
        },
    )
    assert saved.status_code == 302, saved.content.decode()[-1500:]

    parent = Client()
    login(parent, castres, family.user)
    for path in ("/castres/", "/castres/mon-espace/"):
        html = parent.get(path).content.decode()
        assert "--color-primary: #0b5d3b;" in html and "--color-accent: #fdf1e6;" in html, path
        assert '<img class="brand-logo" src="/castres/identite/logo/?v=' in html, path
    logo = Client().get("/castres/identite/logo/")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    # The upload checker stores a clean re-encoding of the image.
    assert b"".join(logo.streaming_content).startswith(b"\x89PNG\r\n\x1a\n")
    castres.refresh_from_db()
    assert castres.config["identity"] == {"primary_color": "#0b5d3b", "accent_color": "#fdf1e6"}


@pytest.mark.django_db
def test_low_contrast_pair_or_unsafe_logo_is_refused_in_french(castres, castres_admin, media):
    refused = castres_admin.post(
        "/castres/gestion/configuration/identite/",
        {"primary_color": "#ffcc00", "accent_color": "#fdf1e6"},
    )
    html = refused.content.decode()
    assert refused.status_code == 422
    assert "La couleur principale est refusée" in html and "contraste de 1,5:1" in html
    assert "au moins 4,5:1" in html
    castres.refresh_from_db()
    assert "identity" not in castres.config
    bad_logo = castres_admin.post(
        "/castres/gestion/configuration/identite/",
        {
            "primary_color": "#0b4f8a",
            "accent_color": "#eef4fa",
            "logo": SimpleUploadedFile(
                "logo.png", b"<svg onload=alert(1)>", content_type="image/png"
            ),
        },
    )
    assert bad_logo.status_code == 422
    assert Client().get("/castres/identite/logo/").status_code == 404


def test_yaml_with_a_low_contrast_colour_is_refused(db, castres):
    from pathlib import Path

    import yaml
    from django.conf import settings

    from tenants.config import ConfigError, validate

    data = yaml.safe_load((Path(settings.TENANT_CONFIGS_DIR) / "castres.yaml").read_text())
    data["identity"] = {"primary_color": "#eeeeee"}
    with pytest.raises(ConfigError) as refused:
        validate(data, source="castres.yaml")
    assert any(
        p.key == "identity.primary_color" and "4,5:1" in p.message for p in refused.value.problems
    )
