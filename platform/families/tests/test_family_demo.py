import pytest
from django_tenants.utils import tenant_context

from demandes.models import Demande
from families import demo
from families.models import Child, Household

pytestmark = pytest.mark.django_db


def test_demo_families_are_loaded_once_with_requests_in_every_state(
    castres, mailoutbox, django_capture_on_commit_callbacks
):
    with tenant_context(castres), django_capture_on_commit_callbacks(execute=True):
        demo.load(castres)
        demo.load(castres)  # idempotent
        assert Household.objects.count() == 4  # the separated parents are two households
        assert {d.status for d in Demande.objects.all()} == {
            "submitted",
            "in_review",
            "accepted",
            "refused",
            "cancelled",
        }
        shared = Child.objects.filter(guardians__household__name__contains="[démo]").distinct()
        assert any(c.guardians.count() == 2 for c in shared)
        assert all(h.name.endswith(demo.MARKER) for h in Household.objects.all())
    assert mailoutbox == []  # demo e-mails are never sent
