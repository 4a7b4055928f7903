"""Fixtures of the documents tests: a second family in Castres, a Bondoufle
family whose ids collide with the Martins', signed-in clients, a demande."""

from __future__ import annotations

import pytest

from documents.testing import forget_media_root, login, make_family


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded files go to a temporary MEDIA_ROOT (per town: <root>/<schema>/)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    forget_media_root()
    yield tmp_path / "media"
    forget_media_root()  # recomputed from the restored setting on next use


@pytest.fixture
def neighbours(castres, in_town):
    """« Famille Durand à Castres », another household of the same town."""
    with in_town(castres):
        return make_family("Durand", username="durand")


@pytest.fixture
def twin_in_bondoufle(family, bondoufle, in_town):
    """A Bondoufle family whose household, adult, child and account ids are the Martins' ids."""
    with in_town(bondoufle):
        return make_family(
            "Bondoufle-Petit",
            username="petit",
            pks={
                "household": family.household.pk,
                "adult": family.adult.pk,
                "child": family.children[0].pk,
                "user": family.user.pk,
            },
        )


@pytest.fixture
def family_client(family):
    return login(family.user, family.commune)


@pytest.fixture
def agent(castres, in_town):
    from tests.factories import UserFactory

    with in_town(castres):
        return UserFactory(username="agent-ecoles", role="agent", service_areas=["periscolaire"])


@pytest.fixture
def agent_client(agent, castres):
    return login(agent, castres)


@pytest.fixture
def town_admin(castres, in_town):
    from tests.factories import UserFactory

    with in_town(castres):
        return UserFactory(username="dpo-castres", role="town_admin")


@pytest.fixture
def demande(family, in_town):
    from demandes.services import submit_demande

    with in_town(family.commune):
        return submit_demande(
            kind="inscription",
            subject="Inscription périscolaire de Léa",
            submitted_by=family.user,
            household=family.household,
            child=family.children[0],
            service_area="periscolaire",
        )
