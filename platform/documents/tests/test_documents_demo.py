"""Demo data of the public space and of documents: loads, twice, harmlessly."""

from content import demo as content_demo
from content.models import MenuDay, NewsItem, Reglement
from documents import demo as documents_demo
from documents.models import Document


def test_demo_data_loads_once(family, castres, in_town, media, client):
    with in_town(castres):
        content_demo.load(castres)
        assert documents_demo.load(castres) == 3
        content_demo.load(castres)
        assert documents_demo.load(castres) == 0
        assert NewsItem.objects.visible().count() == 2 and NewsItem.objects.count() == 3
        assert MenuDay.objects.count() == 8 and Reglement.objects.visible().count() == 1
        assert set(Document.objects.values_list("kind", flat=True)) == {
            "carnet_vaccination",
            "justificatif_domicile",
            "attestation_caf",
        }
    assert "Poisson pané" in client.get("/castres/menus/").content.decode()
    assert "Guide de l&#x27;enfance" in client.get("/castres/").content.decode()
