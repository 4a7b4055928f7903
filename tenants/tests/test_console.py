"""The operator onboards and suspends towns from the public-schema console."""

import pytest
import yaml
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tenants.models import Commune


@pytest.fixture
def operator(db):
    from accounts.models import User

    return User.objects.create_superuser(
        "ops", "ops@example.org", "un-mot-de-passe-operateur", role="operator"
    )


@pytest.fixture
def client(client, operator):
    """The console needs the operator's second factor: a verified session."""
    from accounts.testing import force_login_verified

    force_login_verified(client, operator)
    return client


def saint_test_yaml(**changes) -> str:
    data = yaml.safe_load((settings.TENANT_CONFIGS_DIR / "bondoufle.yaml").read_text())
    data.update({"slug": "saint-test", "name": "Saint-Test", "insee_code": "99003", **changes})
    return yaml.safe_dump(data, allow_unicode=True)


def test_operator_onboards_a_town_from_an_upload_and_it_serves(client):
    upload = SimpleUploadedFile("saint-test.yaml", saint_test_yaml().encode())
    response = client.post("/admin/tenants/commune/integrer/", {"file": upload})
    assert response.status_code == 302
    assert Commune.objects.filter(slug="saint-test").exists()
    page = client.get("/saint-test/")
    assert page.status_code == 200 and "Saint-Test" in page.content.decode()


def test_bad_yaml_in_console_lists_problems_and_creates_nothing(client):
    response = client.post(
        "/admin/tenants/commune/integrer/", {"text": saint_test_yaml(slug="static")}
    )
    assert response.status_code == 200
    assert "« static » est réservé par la plateforme" in response.content.decode()
    assert not Commune.objects.filter(name="Saint-Test").exists()


def test_console_lists_towns_and_suspends(client, castres):
    assert "Castres" in client.get("/admin/tenants/commune/").content.decode()
    client.post("/admin/tenants/commune/", {"action": "suspend", "_selected_action": [castres.pk]})
    assert client.get("/castres/").status_code == 503
    client.post("/admin/tenants/commune/", {"action": "resume", "_selected_action": [castres.pk]})
    assert client.get("/castres/").status_code == 200


def test_console_is_closed_to_anonymous_and_without_second_factor(db, operator):
    from django.test import Client

    anonymous = Client()
    assert anonymous.get("/admin/tenants/commune/integrer/").status_code == 302
    password_only = Client()
    password_only.force_login(operator)
    assert password_only.get("/admin/tenants/commune/integrer/").status_code == 302
