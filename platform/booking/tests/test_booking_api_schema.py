"""The reservation API is described in the town's OpenAPI schema."""


def test_openapi_schema_lists_the_reservation_endpoints(client, castres):
    response = client.get("/castres/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for module in ("periscolaire", "alsh", "petite_enfance"):
        path = next(p for p in paths if p.endswith(f"/api/{module}/reservations/"))
        assert set(paths[path]) >= {"get", "post"}
