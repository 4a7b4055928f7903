"""A NUL byte in any input is a clear 400, never a database error (500)."""


def test_nul_in_query_string_of_an_api(client, castres):
    response = client.get("/castres/api/alsh/reservations/?service=a%00b")
    assert response.status_code == 400
    assert response.json()["detail"] == "La requête contient un caractère nul (0x00), refusé."


def test_nul_in_a_json_body(client, castres):
    response = client.post(
        "/castres/api/alsh/reservations/",
        data='{"service": "a\\u0000"}',
        content_type="application/json",
    )
    assert response.status_code == 400


def test_nul_in_a_page_form(client, castres):
    response = client.post("/castres/compte/connexion/", {"username": "a\x00", "password": "x"})
    assert response.status_code == 400
    assert "caractère nul" in response.content.decode()
