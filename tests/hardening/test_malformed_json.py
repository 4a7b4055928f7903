"""Malformed JSON against EVERY operation of each town's OpenAPI schema.

Found by reading the API as an attacker would: JSON nested 5,000 levels deep
gave a 500 on every JSON operation (anonymous simulator included), a lone
surrogate ("\\ud800") in a choice field gave a 500 on four. The operations are
enumerated from `/<slug>/api/schema/` (tests/hardening/enumerate.py), so an
operation added later is covered without editing this test. Each case must
answer 4xx with a French problem document; none may be a 5xx.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from families.testing import login, make_family
from tests.hardening.enumerate import TOWNS, UNSAFE_METHODS, schema_operations

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

DEEP = ("[" * 5000 + "]" * 5000).encode()
DEEP_OBJECT = ('{"a":' * 5000 + "1" + "}" * 5000).encode()
INVALID_UTF8 = b'{"name": "\xff\xfe\xed\xa0\x80"}'
PARSER_MESSAGES = (
    "imbriqué trop profondément",
    "Unicode invalide",
    "pas de l'UTF-8 valide",
    "pas un JSON valide",
)


def _surrogate_body(operation: dict) -> bytes:
    """Every string property of the request body gets a lone surrogate (choice
    fields included), written as JSON's \\ud800 escape."""
    content = operation.get("requestBody", {}).get("content", {})
    schema = (content.get("application/json") or {}).get("schema", {})
    names = list(schema.get("properties", {})) or ["name"]
    return json.dumps({n: "\ud800" for n in names}).encode()


def _fill(path: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", "1", path)


def _json_operations(schema):
    for method, path, operation in schema_operations(schema):
        content = operation.get("requestBody", {}).get("content", {})
        if method in UNSAFE_METHODS and "application/json" in content:
            yield method, path, operation


def _check(response, where):
    assert response.status_code < 500, f"{where}: {response.status_code}"
    assert 400 <= response.status_code < 500, f"{where}: {response.status_code}"
    assert response["Content-Type"].startswith("application/problem+json"), where
    detail = response.json()["detail"]
    assert detail and "JSON parse error" not in detail and "Invalid" not in detail, (where, detail)
    return detail


def test_malformed_json_is_a_french_400_on_every_json_operation(castres, bondoufle):
    towns = {"castres": castres, "bondoufle": bondoufle}
    operations = reached_parser = 0
    for slug in TOWNS:
        family = make_family(towns[slug], key=f"json-{slug}", last_name="Json")
        clients = {"family": Client(), "anonymous": Client()}
        login(clients["family"], family.commune, family.user)
        schema = clients["anonymous"].get(f"/{slug}/api/schema/?format=json").json()
        for method, path, operation in _json_operations(schema):
            operations += 1
            url = f"/{slug}{_fill(path)}"
            for who, client in clients.items():
                for label, body in [
                    ("deep array", DEEP),
                    ("deep object", DEEP_OBJECT),
                    ("lone surrogate", _surrogate_body(operation)),
                    ("invalid UTF-8", INVALID_UTF8),
                ]:
                    response = getattr(client, method)(
                        url, data=body, content_type="application/json"
                    )
                    detail = _check(response, f"{who} {method.upper()} {url} ({label})")
                    if response.status_code == 400 and any(m in detail for m in PARSER_MESSAGES):
                        reached_parser += 1
    assert operations >= 2 * 5, "le schéma OpenAPI n'a pas été énuméré"
    # Most operations reach the parser (the others refuse earlier: 401/403/404).
    assert reached_parser >= operations * 2, (reached_parser, operations)
    print(f"malformed JSON: {operations} operations, {reached_parser} parser refusals")


def test_anonymous_simulator_refuses_deep_json_in_french(castres):
    response = Client().post(
        "/castres/api/billing/simulateur/", data=DEEP, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "about:blank",
        "title": "Requête invalide",
        "status": 400,
        "detail": "Le JSON est imbriqué trop profondément (32 niveaux au plus).",
    }


def test_a_normal_body_still_parses(castres):
    """Control: the bounded parser reads an ordinary body (the simulator answers)."""
    response = Client().post(
        "/castres/api/billing/simulateur/",
        data={"nested": {"list": [1, 2, {"deep": ["é", "\u00e9"]}]}},
        content_type="application/json",
    )
    assert response.status_code in (200, 400)
    assert "imbriqué" not in response.json().get("detail", "")
