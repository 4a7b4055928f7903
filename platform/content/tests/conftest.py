import pytest

from documents.testing import forget_media_root, login


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    forget_media_root()
    yield tmp_path / "media"
    forget_media_root()


@pytest.fixture
def staff_client(castres, in_town):
    from tests.factories import UserFactory

    with in_town(castres):
        agent = UserFactory(
            username="agent-communication", role="agent", service_areas=["periscolaire"]
        )
    return login(agent, castres)


@pytest.fixture
def family_client(family):
    return login(family.user, family.commune)
