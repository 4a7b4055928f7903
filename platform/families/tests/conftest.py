import pytest

from families.testing import login, make_family, make_staff, use_tmp_media


@pytest.fixture
def media(settings, tmp_path):
    use_tmp_media(settings, tmp_path)
    return tmp_path


@pytest.fixture
def durand(castres):
    """« Famille Durand à Castres »: an account, two children, one grand-parent."""
    return make_family(castres, key="durand", last_name="Durand")


@pytest.fixture
def durand_client(client, durand):
    login(client, durand.commune, durand.user)
    return client


@pytest.fixture
def manager(castres):
    return make_staff(castres, username="responsable", role="manager")
