"""Test helpers shared by the documents and content tests (real file bytes,
families with chosen ids, signed-in clients). Imported by tests only."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils.functional import empty

from accounts.testing import force_login_verified

# Real file bytes: the kernel's helpers, imported here by the documents and content tests.
from core.testing import make_image, make_pdf  # noqa: F401
from families.models import Adult, Child, Household


def upload(content: bytes, name: str = "document.pdf", content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def force_pk(model, pk, **fields):
    """Create a row with a chosen primary key and move the sequence past it."""
    obj = model.objects.create(pk=pk, **fields)
    table = model._meta.db_table
    with connection.cursor() as c:
        c.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
        )
    return obj


def make_family(name: str, *, username: str, pks: dict | None = None):
    """A household with one signed-up adult and one child (in the current schema)."""

    pks = pks or {}
    User = get_user_model()
    if "user" in pks:
        user = force_pk(User, pks["user"], username=username, email=f"{username}@example.org")
    else:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org"}
        )
        if created:
            user.set_password("mot-de-passe-de-test-assez-long")
            user.save(update_fields=["password"])
    household = (
        force_pk(Household, pks["household"], name=name)
        if "household" in pks
        else Household.objects.create(name=name)
    )
    adult_fields = dict(
        household=household,
        user=user,
        first_name="Parent",
        last_name=name,
        email=f"{username}@example.org",
    )
    adult = (
        force_pk(Adult, pks["adult"], **adult_fields)
        if "adult" in pks
        else Adult.objects.create(**adult_fields)
    )
    child_fields = dict(
        household=household, first_name="Enfant", last_name=name, birth_date="2017-03-02"
    )
    child = (
        force_pk(Child, pks["child"], **child_fields)
        if "child" in pks
        else Child.objects.create(**child_fields)
    )
    child.guardians.add(adult)
    return type(
        "Family", (), {"user": user, "household": household, "adult": adult, "children": [child]}
    )


def login(user, commune) -> Client:
    """A client signed in to `commune` (staff sessions have given their second factor)."""

    client = Client()
    force_login_verified(client, user, commune)
    return client


def forget_media_root() -> None:
    """TenantFileSystemStorage caches MEDIA_ROOT and (django-tenants 4.0.1) never
    forgets it when a test changes the setting."""

    if default_storage._wrapped is not empty:
        default_storage._wrapped.__dict__.pop("relative_media_root", None)
