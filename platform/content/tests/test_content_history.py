"""Every change of the public space is versioned with who and when (issue #7):
django-simple-history records, shown to staff per content and per deletion."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from content.models import InfoPage, NewsItem


def _news(staff_client, **extra):
    data = {"title": "Rentrée 2026", "status": "draft", "published_at": "2026-01-01T08:00"}
    data.update(extra)
    return data


def test_create_edit_delete_are_versioned_with_their_author(staff_client, castres, in_town):
    created = staff_client.post("/castres/gestion/contenu/actualites/nouveau/", _news(staff_client))
    assert created.status_code == 302
    with in_town(castres):
        news = NewsItem.objects.get()
    edited = staff_client.post(
        f"/castres/gestion/contenu/actualites/{news.pk}/",
        _news(staff_client, title="Rentrée scolaire 2026", status="published"),
    )
    assert edited.status_code == 302
    page = staff_client.get(f"/castres/gestion/contenu/actualites/{news.pk}/historique/")
    html = page.content.decode()
    assert page.status_code == 200
    with in_town(castres):
        author = NewsItem.history.first().history_user.get_full_name()
    assert html.count(f"<td>{author}</td>") == 2  # the author of both versions
    assert "création" in html and "modification" in html
    assert "<td>état, titre</td>" in html  # the fields the second version changed

    staff_client.post(f"/castres/gestion/contenu/actualites/{news.pk}/supprimer/")
    with in_town(castres):
        assert not NewsItem.objects.exists()
        assert [r.history_type for r in NewsItem.history.order_by("history_id")] == ["+", "~", "-"]
        assert NewsItem.history.filter(history_type="-").get().history_user.username == (
            "agent-communication"
        )
    # The deleted item stays traceable from the staff home and its history page.
    home = staff_client.get("/castres/gestion/contenu/").content.decode()
    assert "Dernières suppressions" in home and "Rentrée scolaire 2026" in home
    gone = staff_client.get(f"/castres/gestion/contenu/actualites/{news.pk}/historique/")
    assert gone.status_code == 200 and "suppression" in gone.content.decode()


def test_history_of_an_unknown_content_is_404(staff_client):
    assert staff_client.get("/castres/gestion/contenu/pages/999999/historique/").status_code == 404
    assert staff_client.get("/castres/gestion/contenu/inconnu/1/historique/").status_code == 404


def test_history_is_for_staff_only_and_stays_in_its_town(
    staff_client, family_client, client, castres, bondoufle, in_town
):
    with in_town(castres):
        page = InfoPage.objects.create(title="Horaires", slug="horaires")
    url = f"/castres/gestion/contenu/pages/{page.pk}/historique/"
    assert staff_client.get(url).status_code == 200
    assert family_client.get(url).status_code in (302, 403)
    assert client.get(url).status_code == 302  # anonymous: sign-in
    # Same id in Bondoufle: nothing there, whatever Castres holds.
    with in_town(bondoufle):
        assert not InfoPage.history.filter(id=page.pk).exists()


def test_history_page_query_count_does_not_grow_with_versions(staff_client, castres, in_town):
    with in_town(castres):
        page = InfoPage.objects.create(title="Horaires", slug="horaires")
    url = f"/castres/gestion/contenu/pages/{page.pk}/historique/"

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url).status_code == 200
        return len(ctx)

    few = count()
    with in_town(castres):
        for i in range(15):
            page.title = f"Horaires {i}"
            page.save()
    assert count() == few
