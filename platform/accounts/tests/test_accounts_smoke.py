import html

import pytest


@pytest.mark.parametrize("path", ["connexion/", "creer/", "mot-de-passe-oublie/"])
def test_public_pages_render(client, castres, path):
    response = client.get(f"/castres/compte/{path}")
    assert response.status_code == 200
    assert "Se connecter" in response.content.decode()


@pytest.mark.parametrize(
    "slug,label", [("castres", "code personnel"), ("bondoufle", "clé Enfance")]
)
def test_signup_uses_the_towns_word_for_the_activation_key(client, castres, bondoufle, slug, label):
    page = client.get(f"/{slug}/compte/creer/")
    assert page.status_code == 200
    assert label in html.unescape(page.content.decode())
