"""Production settings: `check --deploy` is clean; CSP and no-store headers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What a production process gets from its environment (docs/deploy.md).
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.prod",
    "SECRET_KEY": "prod-like-" + "k7Qz9vX2mN4pL8rT6wY1bC3dF5gH0jS" * 2,
    "ALLOWED_HOSTS": "guichet-famille.example.fr",
    "DATABASE_URL": "postgres://guichet:secret@db.internal:5432/guichet",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "VAULT_MASTER_KEY": "prod-like-vault-" + "Zx8Qw3Er6Ty9Ui2Op5As7Df0Gh4Jk1Lm" * 2,
}


def run_manage(*args, env_overrides=None, drop=()):
    # A clean Django environment: other tests set DJANGO_* variables in this
    # process (e.g. DJANGO_ALLOW_ASYNC_UNSAFE for the browser tests).
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("DJANGO_")}
    env.update(PROD_ENV)
    env.update(env_overrides or {})
    for key in drop:
        env.pop(key, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings():
    out = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


@pytest.mark.slow
def test_production_refuses_to_start_without_a_database_url():
    """Without DATABASE_URL, base would start the embedded development server."""
    out = run_manage("check", drop=("DATABASE_URL",))
    assert out.returncode != 0
    assert "DATABASE_URL est obligatoire" in out.stderr


@pytest.mark.slow
def test_production_settings_values():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.CELERY_TASK_ALWAYS_EAGER, s.SECURE_SSL_REDIRECT,"
        " s.DATABASES['default']['CONN_MAX_AGE'])"
    )
    out = run_manage("shell", "-c", code)
    assert out.returncode == 0, out.stderr
    last_line = out.stdout.strip().splitlines()[-1]  # Django 5.2's shell prints imports first
    assert last_line.split() == ["False", "31536000", "True", "True", "False", "True", "60"]


@pytest.mark.django_db
def test_pages_carry_the_content_security_policy(client, castres):
    response = client.get("/castres/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy


@pytest.mark.django_db
def test_signed_in_pages_are_never_stored(client, family, in_town):
    anonymous = client.get("/castres/")
    assert "no-store" not in anonymous.get("Cache-Control", "")
    with in_town(family.commune):  # the session lives in the town's schema
        client.force_login(family.user)
    signed_in = client.get("/castres/")
    assert signed_in.status_code == 200
    cache_control = signed_in["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control


@pytest.mark.slow
@pytest.mark.parametrize(
    "variable, value",
    [
        ("VAULT_MASTER_KEY", None),
        ("VAULT_MASTER_KEY", "dev-only-vault-master-key-change-me-in-production"),
        ("VAULT_MASTER_KEY", "change-me"),
        ("VAULT_MASTER_KEY", "short"),
        ("SECRET_KEY", None),
        ("SECRET_KEY", "change-me"),
        ("SECRET_KEY", "dev-insecure-change-me-" + "x" * 40),
    ],
)
def test_production_refuses_a_missing_or_default_secret(variable, value):
    """Production does not start with a published or missing key; the message
    names the variable (French and English)."""
    if value is None:
        out = run_manage("check", drop=(variable,))
    else:
        out = run_manage("check", env_overrides={variable: value})
    assert out.returncode != 0
    assert "ImproperlyConfigured" in out.stderr
    assert f"{variable} " in out.stderr
    assert "production" in out.stderr


@pytest.mark.django_db
def test_deploy_check_refuses_a_town_whose_payment_secret_is_not_set(castres, monkeypatch):
    """Castres names CASTRES_PAYZEN_SECRET_TEST (its mode) in its payment config:
    without it on the server, `check --deploy` fails for Castres only."""
    from modules.billing.checks import payment_secrets_are_set

    monkeypatch.delenv("CASTRES_PAYZEN_SECRET_TEST", raising=False)
    errors = payment_secrets_are_set(None)
    castres_errors = [e for e in errors if "« castres »" in e.msg]
    assert castres_errors and "CASTRES_PAYZEN_SECRET_TEST" in castres_errors[0].msg
    assert castres_errors[0].id == "billing.E001"
    monkeypatch.setenv("CASTRES_PAYZEN_SECRET_TEST", "AtestSecretFromTheEnvironment1")
    assert not [e for e in payment_secrets_are_set(None) if "« castres »" in e.msg]


@pytest.mark.django_db
def test_swagger_page_scripts_carry_the_csp_nonce(client, castres):
    """Our own CSP blocked the Swagger page's inline initialiser: every script
    of /api/docs/ now carries the response's nonce."""
    import re

    response = client.get("/castres/api/docs/")
    assert response.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert len(scripts) >= 3
    assert all(f'nonce="{nonce}"' in tag for tag in scripts), scripts


@pytest.mark.django_db
@pytest.mark.parametrize(
    "check_path, variable, check_id",
    [
        (
            "accounts.checks.franceconnect_secrets_are_set",
            "CASTRES_FRANCECONNECT_SECRET",
            "accounts.E001",
        ),
        (
            "families.checks.api_particulier_tokens_are_set",
            "CASTRES_API_PARTICULIER_TOKEN",
            "families.E001",
        ),
    ],
)
def test_deploy_check_refuses_a_town_whose_identity_secret_is_not_set(
    castres, monkeypatch, check_path, variable, check_id
):
    """Castres's YAML switches FranceConnect and API Particulier on and names
    their variables: without one on the server, `check --deploy` fails for
    Castres only, naming the town and the variable (never a value)."""
    import importlib

    module, name = check_path.rsplit(".", 1)
    check = getattr(importlib.import_module(module), name)
    monkeypatch.delenv(variable, raising=False)
    errors = [e for e in check(None) if "« castres »" in e.msg]
    assert len(errors) == 1 and errors[0].id == check_id
    assert (
        f"« {variable} »" in errors[0].msg and "n'est pas définie sur le serveur" in errors[0].msg
    )
    monkeypatch.setenv(variable, "a-value-from-the-environment")
    assert not [e for e in check(None) if "« castres »" in e.msg]


@pytest.mark.parametrize(
    "section, expected",
    [
        (None, None),
        ({}, None),
        ({"client_id": ""}, None),
        ({"client_id": "c", "secrets": {"client_secret": "FC_SET"}}, None),
        ({"client_id": "c"}, "ne nomme pas la variable"),
        ({"client_id": "c", "secrets": {"client_secret": "FC_UNSET"}}, "« FC_UNSET »"),
        (
            {"client_id": "c", "environment": "recette", "secrets": {"client_secret": "FC_SET"}},
            "environnement « recette » inconnu",
        ),
    ],
)
def test_franceconnect_configuration_problem(section, expected):
    from accounts.franceconnect import configuration_problem

    problem = configuration_problem(section, {"FC_SET": "x", "FC_EMPTY": ""})
    assert problem is None if expected is None else expected in problem


@pytest.mark.parametrize(
    "section, expected",
    [
        (None, None),
        ({}, None),
        ({"recipient": "1", "secrets": {"token": "T_SET"}}, None),
        ({"recipient": "1"}, "ne nomme pas la variable"),
        ({"recipient": "1", "secrets": {"token": "T_EMPTY"}}, "« T_EMPTY »"),
        ({"secrets": {"token": "T_SET"}}, "SIRET"),
        (
            {"recipient": "1", "environment": "x", "secrets": {"token": "T_SET"}},
            "environnement « x » inconnu",
        ),
    ],
)
def test_api_particulier_configuration_problem(section, expected):
    from families.api_particulier import configuration_problem

    problem = configuration_problem(section, {"T_SET": "x", "T_EMPTY": ""})
    assert problem is None if expected is None else expected in problem
