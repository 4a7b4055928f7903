"""Operator console additions: figures per town, health page, inviting a town's
first admin, versions written by console uploads."""

import re

import pytest
from celery import shared_task
from django.core import mail
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tenants.console import invite_town_admin, town_stats
from tenants.models import Commune, ConfigVersion

pytestmark = pytest.mark.django_db


@shared_task(name="tests.backoffice.fail_on_purpose")
def fail_on_purpose():
    raise RuntimeError("échec voulu par le test")


@pytest.fixture
def operator(db):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from accounts.testing import force_login_verified  # noqa: F401

    connection.set_schema_to_public()
    user = User.objects.create_superuser("ops", "ops@example.org", "mot-de-passe-operateur-long")
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_town_stats_count_families_and_migrations(castres, family):
    stats = town_stats([castres])["castres"]
    assert stats["families"] == 1
    assert stats["last_migration"] is not None
    assert stats["pending"] == 0


def test_console_list_and_health_pages(operator, castres):
    response = operator.get("/admin/tenants/commune/")
    assert response.status_code == 200
    assert "migrations en attente" in response.content.decode().lower()
    assert operator.get("/admin/tenants/commune/sante/").status_code == 200


def test_invite_creates_a_town_admin_without_password_and_mails_a_link(
    castres, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = invite_town_admin(
            commune=castres, email="dgs@ville-castres.fr", first_name="Dana", last_name="G"
        )
    with tenant_context(castres):
        user.refresh_from_db()
        assert user.role == "town_admin" and not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert re.search(r"/castres/compte/reinitialiser/[^/]+/[^/]+/", mail.outbox[0].body), (
        mail.outbox[0].body
    )


def test_console_upload_writes_a_version_by_the_operator(operator, settings):
    text = (settings.TENANT_CONFIGS_DIR / "saint-herblain.yaml").read_text()
    response = operator.post("/admin/tenants/commune/integrer/", {"text": text})
    assert response.status_code == 302, response.content.decode()[:2000]
    commune = Commune.objects.get(slug="saint-herblain")
    version = ConfigVersion.objects.get(commune=commune)
    assert version.number == 1 and "ops" in version.actor_display and version.source == "console"


def test_a_failed_task_is_recorded_for_the_console(castres, in_town):
    from tenants.models import FailedTask

    with in_town(castres):
        fail_on_purpose.apply(throw=False)
        assert connection.schema_name == "castres"
    assert FailedTask.objects.filter(
        task_name="tests.backoffice.fail_on_purpose", schema_name="castres"
    ).exists()
