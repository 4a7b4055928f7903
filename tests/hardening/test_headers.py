"""Security headers, cookies and CSRF, checked over EVERY page and API operation.

Pages come from both URLconfs (every pattern without argument), API operations
from each town's OpenAPI schema, forms from every template: what other teams
add later is checked without editing this file. docs/security.md maps each
check to its threat.

The replay of a Castres session cookie on Bondoufle is proven by
platform/accounts/tests/test_login.py::test_a_session_of_one_town_is_refused_in_another.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from families.testing import login, make_family
from tests.hardening.enumerate import (
    ROOT,
    TOWNS,
    UNSAFE_METHODS,
    argless_routes,
    post_forms,
    posts_off_site,
    schema_operations,
    template_files,
)

pytestmark = pytest.mark.django_db

TENANT_ROUTES = argless_routes("portal.urls_tenant")
PUBLIC_ROUTES = argless_routes("portal.urls_public")


def _urls():
    for route in PUBLIC_ROUTES:
        yield f"/{route.path}"
    for slug in TOWNS:
        for route in TENANT_ROUTES:
            yield f"/{slug}/{route.path}"


@pytest.fixture
def families(castres, bondoufle):
    return {
        "castres": make_family(castres, key="durand", last_name="Durand"),
        "bondoufle": make_family(bondoufle, key="leroy", last_name="Leroy"),
    }


def _signed_in_client(families, slug):
    client = Client()
    login(client, families[slug].commune, families[slug].user)
    return client


def _assert_security_headers(url, response):
    policy = response.get("Content-Security-Policy", "")
    framing_refused = (
        "frame-ancestors 'none'" in policy or response.get("X-Frame-Options") == "DENY"
    )
    problems = []
    # 'none' (+ sandbox) is the stricter policy of file downloads (documents.views).
    if "default-src 'self'" not in policy and "default-src 'none'" not in policy:
        problems.append("CSP absente ou sans default-src 'self'/'none'")
    if not framing_refused:
        problems.append("encadrement (clickjacking) non refusé")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options: nosniff absent")
    if not response.get("Referrer-Policy"):
        problems.append("Referrer-Policy absente")
    return [f"{url} ({response.status_code}): {p}" for p in problems]


def test_the_enumeration_sees_the_product():
    """Guard: an empty enumeration would make every test below pass vacuously."""
    paths = {r.path for r in TENANT_ROUTES}
    assert {"", "mon-espace/", "compte/connexion/", "api/schema/"} <= paths
    assert {"", "health/"} <= {r.path for r in PUBLIC_ROUTES}


def test_every_page_anonymous_carries_the_security_headers(client, castres, bondoufle):
    problems, server_errors = [], []
    for url in _urls():
        response = client.get(url)
        if response.status_code >= 500:
            server_errors.append(f"{url}: {response.status_code}")
        problems += _assert_security_headers(url, response)
    assert not server_errors, server_errors
    assert not problems, "\n".join(problems)


def test_every_page_signed_in_carries_the_headers_and_is_never_stored(families):
    problems, server_errors, checked = [], [], 0
    for slug in TOWNS:
        client = _signed_in_client(families, slug)
        for route in TENANT_ROUTES:
            url = f"/{slug}/{route.path}"
            response = client.get(url)
            checked += 1
            if response.status_code >= 500:
                server_errors.append(f"{url}: {response.status_code}")
            problems += _assert_security_headers(url, response)
            if "no-store" not in response.get("Cache-Control", ""):
                problems.append(f"{url} ({response.status_code}): Cache-Control sans no-store")
        # The sweep must not have signed the family out (a GET logout would).
        me = client.get(f"/{slug}/api/compte/moi/").json()
        assert me["authenticated"] is True, f"{slug}: la session a été perdue pendant le balayage"
    assert checked >= 2 * len(TENANT_ROUTES)
    assert not server_errors, server_errors
    assert not problems, "\n".join(problems)


# --- CSRF ---------------------------------------------------------------------


def test_every_post_form_of_every_template_carries_the_csrf_token():
    files = template_files()
    assert len(files) > 20  # the enumeration found the templates
    missing, forms = [], 0
    for path in files:
        for attrs, body in post_forms(path.read_text(encoding="utf-8")):
            forms += 1
            has_token = "{% csrf_token %}" in body
            if posts_off_site(attrs):
                if has_token:
                    missing.append(f"{path.relative_to(ROOT)}: jeton CSRF envoyé hors du site")
            elif not has_token:
                missing.append(f"{path.relative_to(ROOT)}: <form{attrs}> sans {{% csrf_token %}}")
    assert forms > 5
    assert not missing, "\n".join(missing)


def test_every_rendered_post_form_carries_the_csrf_token(families):
    """Forms built by code (not literally in a template) are caught here."""
    missing, forms = [], 0
    anonymous = Client()
    for slug in TOWNS:
        signed_in = _signed_in_client(families, slug)
        for client in (anonymous, signed_in):
            for route in TENANT_ROUTES:
                url = f"/{slug}/{route.path}"
                response = client.get(url)
                if "text/html" not in response.get("Content-Type", ""):
                    continue
                for attrs, body in post_forms(response.content.decode()):
                    forms += 1
                    if posts_off_site(attrs):
                        continue
                    if 'name="csrfmiddlewaretoken"' not in body:
                        missing.append(f"{url}: <form{attrs}> sans jeton CSRF")
    assert forms > 0
    assert not missing, "\n".join(missing)


def _openapi(client, slug) -> dict:
    response = client.get(f"/{slug}/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _fill(path: str, op: dict | None = None) -> str:
    """Path parameters filled with a value of their declared format (a UUID
    where the schema says so: a `1` would not even reach the view)."""
    formats = {
        p["name"]: (p.get("schema") or {}).get("format")
        for p in (op or {}).get("parameters", [])
        if p.get("in") == "path"
    }

    def value(m):
        return "00000000-0000-4000-8000-000000000001" if formats.get(m.group(1)) == "uuid" else "1"

    return re.sub(r"\{([^}]+)\}", value, path)


def _unsafe(client, method, url, **extra):
    """The request as a browser would send it: JSON, or multipart where the
    endpoint only takes uploads (a 415 would hide the CSRF answer)."""
    response = getattr(client, method)(url, {}, format="json", **extra)
    if response.status_code == 415:
        response = getattr(client, method)(url, {}, format="multipart", **extra)
    return response


def test_every_unsafe_api_operation_refuses_a_session_without_csrf_token(families):
    """SessionAuthentication: a signed-in browser's request without the token is
    refused before the view runs (403), whatever the operation."""
    refused, accepted = 0, []
    for slug in TOWNS:
        client = APIClient(enforce_csrf_checks=True)
        login(client, families[slug].commune, families[slug].user)
        schema = _openapi(client, slug)
        for method, path, op in schema_operations(schema):
            if method not in UNSAFE_METHODS:
                continue
            url = f"/{slug}" + _fill(path, op)
            response = _unsafe(client, method, url)
            if response.status_code == 404 and "pas proposé" in response.content.decode():
                continue  # module switched off in this town: unreachable anyway
            if response.status_code == 403 and "CSRF" in response.content.decode():
                refused += 1
            else:
                accepted.append(f"{method.upper()} {url}: {response.status_code}")
    assert refused > 0
    assert not accepted, "\n".join(accepted)


def test_the_same_operations_pass_the_csrf_check_with_the_token(families):
    """Control for the test above: with the token the 403 disappears, so that
    403 was the CSRF check and not something else."""
    slug = "castres"
    client = APIClient(enforce_csrf_checks=True)
    login(client, families[slug].commune, families[slug].user)
    client.get(f"/{slug}/mon-espace/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    schema = _openapi(client, slug)
    still_csrf = []
    for method, path, op in schema_operations(schema):
        if method in UNSAFE_METHODS:
            url = f"/{slug}" + _fill(path, op)
            response = _unsafe(client, method, url, HTTP_X_CSRFTOKEN=token)
            if "CSRF" in response.content.decode():
                still_csrf.append(f"{method.upper()} {url}")
    assert not still_csrf, still_csrf


# --- Production settings: HSTS, cookies -----------------------------------------

PROBE = r"""
import json, django
django.setup()
from django.test.utils import override_settings
# No collectstatic in tests: plain static storage instead of the manifest.
override_settings(STORAGES={
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}).enable()
from django.db import connection, transaction
from django.test import Client
from django_tenants.utils import tenant_context
from tenants.models import Commune
out = {}
class Rollback(Exception):
    pass
try:
    with transaction.atomic():
        castres = Commune.objects.get(slug="castres")
        with tenant_context(castres):
            from accounts.models import User
            User.objects.create_user(username="probe", email="probe@example.org",
                                     password="mot-de-passe-de-sonde-long")
        connection.set_schema_to_public()
        c = Client(HTTP_X_FORWARDED_PROTO="https")
        page = c.get("/castres/compte/connexion/", secure=True)
        out["hsts"] = page.get("Strict-Transport-Security", "")
        out["plain_http"] = c.get("/castres/", HTTP_X_FORWARDED_PROTO="http").status_code
        r = c.post("/castres/compte/connexion/", {"identifier": "probe",
                   "password": "mot-de-passe-de-sonde-long",
                   "csrfmiddlewaretoken": page.cookies["csrftoken"].value}, secure=True)
        out["login_status"] = r.status_code
        out["cookies"] = {name: {k: m[k] for k in ("secure", "httponly", "samesite", "path")}
                          for name, m in {**page.cookies, **r.cookies}.items()}
        raise Rollback
except Rollback:
    pass
print("PROBE=" + json.dumps(out))
"""


@pytest.mark.slow
def test_production_headers_and_cookies(castres):
    """portal.settings.prod on the real test database: HSTS one year, HTTPS
    redirect, session and CSRF cookies Secure + SameSite, session HttpOnly."""
    from portal.embedded_db import database_url

    # ALL the connection settings (the embedded server's socket is in OPTIONS).
    db = database_url(connection.settings_dict)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings.prod",
            "SECRET_KEY": "prod-like-" + "k7Qz9vX2mN4pL8rT6wY1bC3dF5gH0jS" * 2,
            "VAULT_MASTER_KEY": "prod-like-vault-" + "Q2w9Zx7Lm4Np8Rt6Vy1Bc3Df" * 2,
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": db,
            "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
            "CONN_MAX_AGE": "0",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = [x for x in out.stdout.splitlines() if x.startswith("PROBE=")]
    assert line, out.stdout + out.stderr
    probe = json.loads(line[0].removeprefix("PROBE="))
    hsts = dict(
        (part.strip().split("=") + [""])[:2] for part in probe["hsts"].split(";") if part.strip()
    )
    assert int(hsts["max-age"]) >= 365 * 24 * 3600
    assert "includeSubDomains" in hsts
    assert probe["plain_http"] == 301  # SECURE_SSL_REDIRECT
    assert probe["login_status"] == 302, probe
    session, csrf = probe["cookies"]["sessionid"], probe["cookies"]["csrftoken"]
    assert session["secure"] is True and session["httponly"] is True
    assert session["samesite"] in ("Lax", "Strict") and session["path"] == "/castres/"
    assert csrf["secure"] is True and csrf["samesite"] in ("Lax", "Strict")
