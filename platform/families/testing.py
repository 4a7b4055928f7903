"""Test helpers shared by families, demandes and tests/test_access_matrix.py:
fictitious families and staff inside a town, and signing a client in there."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.testing import force_login_verified
from core.testing import make_pdf
from families.models import Adult, Child, EntourageMember, HealthSheet, Household

PASSWORD = "mot-de-passe-de-test-assez-long"


def make_family(commune, *, key: str, last_name: str, children: int = 2, pks: dict | None = None):
    """A household with one account holder (payer), `children` children with
    health sheets, and one entourage member. `pks` forces primary keys (to make
    them collide with another town's rows)."""

    pks = pks or {}
    with tenant_context(commune):
        user = User.objects.create_user(
            pk=pks.get("user"),
            username=key,
            email=f"{key}@example.org",
            password=PASSWORD,
            first_name="Camille",
            last_name=last_name,
        )
        household = Household.objects.create(
            pk=pks.get("household"),
            name=f"Famille {last_name}",
            address_line="3 rue des Lilas",
            postcode="81100",
            city=commune.name,
            allocataire_regime="caf",
            allocataire_number="1234567",
            quotient_familial=650,
            qf_source="caf",
            qf_date=datetime.date(2026, 1, 15),
        )
        adult = Adult.objects.create(
            pk=pks.get("adult"),
            household=household,
            user=user,
            first_name="Camille",
            last_name=last_name,
            email=f"{key}@example.org",
            phone="06 12 34 56 78",
        )
        household.payer = adult
        household.save(update_fields=["payer"])
        kids = []
        child_pks = pks.get("children", [])
        for i in range(children):
            child = Child.objects.create(
                pk=child_pks[i] if i < len(child_pks) else None,
                household=household,
                first_name=f"Enfant{i + 1}",
                last_name=last_name,
                birth_date=datetime.date(2016 + i % 8, 3, 1 + i),
                school="École Jean Jaurès",
                school_class="CE1",
            )
            child.guardians.add(adult)
            HealthSheet.objects.create(child=child, allergies=f"arachide ({last_name})")
            kids.append(child)
        member = EntourageMember.objects.create(
            pk=pks.get("member"),
            household=household,
            first_name="Dominique",
            last_name=f"Grand-parent {last_name}",
            relationship="grand-mère",
            phone="06 98 76 54 32",
            can_pick_up=True,
            emergency_contact=True,
        )
    connection.set_schema_to_public()
    return SimpleNamespace(
        commune=commune,
        user=user,
        household=household,
        adult=adult,
        children=kids,
        member=member,
    )


def make_staff(commune, *, username: str, role: str = "agent", areas=(), pk=None):
    with tenant_context(commune):
        user = User.objects.create_user(
            pk=pk,
            username=username,
            email=f"{username}@mairie.example",
            password=PASSWORD,
            first_name="Agent",
            last_name=username.capitalize(),
            role=role,
            service_areas=list(areas),
        )
    connection.set_schema_to_public()
    return user


def login(client, commune, user) -> None:
    """`client.force_login` in the town's schema (sessions live in each town's
    schema); staff sessions are also marked as having given their second factor."""

    force_login_verified(client, user, commune)


def use_tmp_media(settings, tmp_path) -> None:
    """Uploaded files under a temporary MEDIA_ROOT (TenantFileSystemStorage caches
    its root: re-setting MULTITENANT_RELATIVE_MEDIA_ROOT clears that cache)."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"


# A real PDF: uploads are parsed by core.uploads (the one checker).
PDF_BYTES = make_pdf("Pièce jointe")
