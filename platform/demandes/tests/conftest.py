import pytest

from families.testing import make_family, make_staff, use_tmp_media


@pytest.fixture
def media(settings, tmp_path):
    use_tmp_media(settings, tmp_path)
    return tmp_path


@pytest.fixture
def durand(castres):
    return make_family(castres, key="durand", last_name="Durand")


@pytest.fixture
def agent_facturation(castres):
    """An agent of the billing area (quotient familial requests)."""
    return make_staff(castres, username="agent-facturation", areas=["billing"])


@pytest.fixture
def agent_periscolaire(castres):
    return make_staff(castres, username="agent-periscolaire", areas=["periscolaire"])


@pytest.fixture
def manager(castres):
    return make_staff(castres, username="responsable", role="manager")
