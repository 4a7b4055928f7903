"""A request under /castres/ never reads or writes the bondoufle schema."""

from django.core.cache import cache
from django.db import connection

from core.models import Service
from core.tasks import describe_town


def _force_same_ids(commune_a, commune_b, in_town):
    """Give both towns a row with the SAME primary key but different data."""
    rows = {}
    for commune, name in ((commune_a, "Cantine de Castres"), (commune_b, "Cantine de Bondoufle")):
        with in_town(commune):
            Service.objects.filter(pk=9001).delete()
            rows[commune.slug] = Service.objects.create(
                pk=9001,
                code="collision",
                name=name,
                kind="restauration_scolaire",
                module="periscolaire",
                deadlines={"booking": {"rule": "days_before", "days": 1}},
            )
    return rows


def test_colliding_primary_keys_read_from_the_right_schema(client, castres, bondoufle, in_town):
    _force_same_ids(castres, bondoufle, in_town)
    castres_api = client.get("/castres/api/periscolaire/").json()
    bondoufle_api = client.get("/bondoufle/api/periscolaire/").json()
    assert "Cantine de Castres" in [s["name"] for s in castres_api["services"]]
    assert "Cantine de Bondoufle" not in [s["name"] for s in castres_api["services"]]
    assert "Cantine de Bondoufle" in [s["name"] for s in bondoufle_api["services"]]
    assert "Cantine de Castres" not in [s["name"] for s in bondoufle_api["services"]]


def test_each_request_sets_its_schema_and_leaves_public(client, castres, bondoufle):
    client.get("/castres/")
    assert connection.schema_name == "public"
    client.get("/bondoufle/api/commune/")
    assert connection.schema_name == "public"


def test_cache_keys_are_prefixed_per_town(castres, bondoufle, in_town):
    for commune in (castres, bondoufle):  # the cache may be a real, persistent Redis
        with in_town(commune):
            cache.delete("places-restantes")
    with in_town(castres):
        cache.set("places-restantes", 3)
    with in_town(bondoufle):
        assert cache.get("places-restantes") is None
        cache.set("places-restantes", 7)
    with in_town(castres):
        assert cache.get("places-restantes") == 3


def test_uploaded_media_are_stored_per_town(castres, bondoufle, in_town, settings, tmp_path):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    settings.MEDIA_ROOT = str(tmp_path)
    with in_town(castres):
        name = default_storage.save("justificatifs/a.txt", ContentFile(b"castres"))
        assert default_storage.path(name).startswith(str(tmp_path / "castres"))
    with in_town(bondoufle):
        assert not default_storage.exists(name)


def test_task_sent_from_a_town_runs_in_its_schema_eagerly(castres, bondoufle, in_town):
    with in_town(bondoufle):
        result = describe_town.delay().get()
    assert result["schema"] == "bondoufle"
    assert "alsh-mercredi" in result["services"] and "etudes-dirigees" not in result["services"]
