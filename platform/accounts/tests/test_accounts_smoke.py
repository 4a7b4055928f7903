import pytest


@pytest.mark.parametrize("path", ["connexion/", "creer/", "mot-de-passe-oublie/"])
def test_public_pages_render(client, castres, path):
    response = client.get(f"/castres/compte/{path}")
    assert response.status_code == 200
    assert "Se connecter" in response.content.decode()
