"""The private vault: encrypted at rest per family, invisible to the town."""

import pytest
from django.contrib import admin
from django.db import connection
from django.urls import get_resolver
from rest_framework.authentication import BaseAuthentication

from documents import services
from documents import vault as crypto
from documents.models import Document, VaultItem
from documents.testing import login, make_pdf, upload

SECRET = "BULLETIN-SALAIRE-CLAIRE-MARTIN-3124-EUROS"
TITLE = "Bulletin de salaire de janvier"
FILENAME = "bulletin-salaire-janvier-claire.pdf"


@pytest.fixture
def stored(family, family_client, media, in_town):
    response = family_client.post(
        "/castres/coffre-fort/", {"title": TITLE, "file": upload(make_pdf(SECRET), FILENAME)}
    )
    assert response.status_code == 302
    with in_town(family.commune):
        return VaultItem.objects.get()


def test_family_stores_lists_and_downloads(family_client, stored):
    page = family_client.get("/castres/coffre-fort/").content.decode()
    assert TITLE in page and "la mairie ne peut pas les consulter" in page
    response = family_client.get(f"/castres/coffre-fort/{stored.public_id}/fichier/")
    assert response.status_code == 200
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="bulletin-de-salaire-de-janvier.pdf"'
    )
    assert (
        response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
    )
    assert b"".join(response.streaming_content) == make_pdf(SECRET)


def test_no_plaintext_on_disk_or_in_the_database(stored, media, family, in_town):
    plaintext = make_pdf(SECRET)
    raw = (media / "castres" / stored.file.name).read_bytes()
    assert raw.startswith(crypto.MAGIC) and len(raw) >= len(plaintext)
    for needle in (SECRET.encode(), b"%PDF", TITLE.encode(), FILENAME.encode(), b"application/pdf"):
        assert needle not in raw
    with in_town(family.commune), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM documents_vaultitem")
        [row] = cursor.fetchall()
        cursor.execute("SELECT row_to_json(v)::text FROM documents_vaultitem v")
        as_text = cursor.fetchone()[0]
    raw_row = b"".join(
        bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row
    )
    for needle in (SECRET, TITLE, FILENAME, "bulletin", "salaire", "application/pdf", "Document"):
        assert needle.encode() not in raw_row and needle not in as_text
    assert "coffre-fort/" in as_text and stored.file.name.endswith(".bin")


def test_each_family_and_each_town_has_its_own_key():
    """The derivation of the families' keys before versioned master keys (each
    is then wrapped by rotate_vault_keys: test_vault_rotation.py)."""
    keys = {
        crypto.legacy_family_key(schema=s, household_id=h)
        for s in ("castres", "bondoufle")
        for h in (1, 2)
    }
    assert len(keys) == 4


def test_a_blob_moved_to_another_household_or_town_does_not_decrypt(stored, family):
    where = {
        "schema": "castres",
        "household_id": family.household.pk,
        "item_id": str(stored.public_id),
    }
    with pytest.raises(crypto.VaultError):
        crypto.open_metadata(stored.metadata, **{**where, "schema": "bondoufle"})
    with pytest.raises(crypto.VaultError):
        crypto.open_metadata(stored.metadata, **{**where, "household_id": family.household.pk + 1})
    with pytest.raises(crypto.VaultError):
        crypto.open_metadata(stored.metadata, **{**where, "item_id": "autre"})
    assert crypto.open_metadata(stored.metadata, **where)["title"] == TITLE


def test_the_master_key_is_required_to_decrypt(stored, family, settings):
    where = {
        "schema": "castres",
        "household_id": family.household.pk,
        "item_id": str(stored.public_id),
    }
    settings.VAULT_MASTER_KEY = "une-autre-cle-maitresse-" + "x" * 20
    with pytest.raises(crypto.VaultError):
        crypto.open_metadata(stored.metadata, **where)


def vault_routes(public_id):
    """Every vault URL of the pages and of the API, found from the URLconf (none forgotten)."""
    from django.urls import reverse

    routes = []
    for name in (
        "documents:vault",
        "documents:vault-download",
        "documents:vault-delete",
        "documents:vault-share",
        "api:documents:vault",
        "api:documents:vault-item",
        "api:documents:vault-file",
        "api:documents:vault-share",
    ):
        args = [] if name.endswith(":vault") else [public_id]
        # Castres' URLs (reverse() outside a request has no town prefix).
        routes.append("/castres" + reverse(name, args=args, urlconf="portal.urls_tenant"))
    return routes


def test_the_route_list_covers_every_vault_url():
    resolver = get_resolver("portal.urls_tenant")
    names = {n for n in resolver.reverse_dict.keys() if isinstance(n, str)}
    vault_like = set()
    for ns, (_, sub) in resolver.namespace_dict.items():
        for n in sub.reverse_dict.keys():
            if isinstance(n, str) and "vault" in n:
                vault_like.add(f"{ns}:{n}")
        for ns2, (_, sub2) in sub.namespace_dict.items():
            vault_like |= {
                f"{ns}:{ns2}:{n}"
                for n in sub2.reverse_dict.keys()
                if isinstance(n, str) and "vault" in n
            }
    assert vault_like == {
        "documents:vault",
        "documents:vault-download",
        "documents:vault-delete",
        "documents:vault-share",
        "api:documents:vault",
        "api:documents:vault-item",
        "api:documents:vault-file",
        "api:documents:vault-share",
    }
    assert not [n for n in names if "vault" in n]  # nothing outside a namespace


@pytest.mark.parametrize("role", ["agent", "manager", "town_admin"])
def test_staff_get_404_on_every_vault_url_and_api(stored, castres, in_town, role):
    from tests.factories import UserFactory

    with in_town(castres):
        staff = UserFactory(
            username=f"staff-{role}",
            role=role,
            service_areas=["periscolaire"],
            is_staff=True,
            is_superuser=role == "town_admin",
        )
    client = login(staff, castres)
    for url in vault_routes(stored.public_id):
        for method in ("get", "post", "delete"):
            response = getattr(client, method)(url)
            assert response.status_code in (403, 404), (method, url, response.status_code)
            assert TITLE not in response.content.decode(errors="ignore")
    with in_town(castres):
        assert VaultItem.objects.filter(pk=stored.pk).exists()


class StaffToken(BaseAuthentication):
    """Stands for any token scheme added to the API later (a staff integration token)."""

    def authenticate(self, request):
        from accounts.models import User

        if request.META.get("HTTP_AUTHORIZATION") == "Token agent":
            agent = User.objects.get(username="agent-ecoles")
            agent.is_verified = lambda: True  # a token scheme would carry its own second factor
            return agent, "agent"
        if request.META.get("HTTP_AUTHORIZATION") == "Token family":
            return User.objects.get(username="martin"), "family"
        return None


def test_tokens_never_reach_the_vault(stored, agent, monkeypatch, client):
    from rest_framework.views import APIView

    monkeypatch.setattr(APIView, "authentication_classes", [StaffToken])
    # The token works on the rest of the API...
    assert (
        client.get(
            "/castres/api/gestion/justificatifs/", HTTP_AUTHORIZATION="Token agent"
        ).status_code
        == 200
    )
    # ...but no token, not even a family's, opens the vault or the export.
    for token in ("Token agent", "Token family"):
        for url in vault_routes(stored.public_id)[4:] + ["/castres/api/mes-donnees/export/"]:
            assert client.get(url, HTTP_AUTHORIZATION=token).status_code in (403, 404), (token, url)


def test_another_family_gets_404(stored, neighbours, castres):
    other = login(neighbours.user, castres)
    routes = vault_routes(stored.public_id)
    for url in routes[1:4] + routes[5:]:  # the item routes (the lists show their own items)
        assert other.get(url).status_code in (404, 405), url
        assert other.post(url).status_code in (404, 405), url
    assert other.get("/castres/api/coffre-fort/").json() == []


def test_vault_is_never_listed_for_staff_or_in_the_admin(stored, agent_client, family):
    assert VaultItem not in admin.site._registry
    for url in (
        "/castres/gestion/justificatifs/?statut=",
        "/castres/api/gestion/justificatifs/",
        f"/castres/gestion/donnees-personnelles/foyers/{family.household.pk}/",
    ):
        body = agent_client.get(url).content.decode()
        assert TITLE not in body and "coffre" not in body.lower().replace(
            "le coffre-fort de la famille est effacé sans être ouvert", ""
        )


def test_vault_api(family_client, media):
    created = family_client.post(
        "/castres/api/coffre-fort/", {"title": "Passeport", "file": upload(make_pdf("P"))}
    )
    assert created.status_code == 201
    item = created.json()
    assert item["title"] == "Passeport" and item["content_type"] == "application/pdf"
    assert [i["id"] for i in family_client.get("/castres/api/coffre-fort/").json()] == [item["id"]]
    assert b"".join(family_client.get(item["download_url"]).streaming_content) == make_pdf("P")
    assert family_client.delete(f"/castres/api/coffre-fort/{item['id']}/").status_code == 204
    assert family_client.get("/castres/api/coffre-fort/").json() == []


def test_vault_uploads_are_checked_like_documents(family_client, media):
    response = family_client.post(
        "/castres/api/coffre-fort/",
        {"title": "x", "file": upload(b"<html><script>x</script></html>", "x.pdf")},
    )
    assert response.status_code == 400 and "page web (HTML)" in response.json()["detail"]


def test_sharing_moves_a_vault_document_into_a_supporting_document(
    stored, family, family_client, in_town, agent_client
):
    response = family_client.post(
        f"/castres/coffre-fort/{stored.public_id}/transmettre/",
        {"kind": "avis_imposition", "issued_on": "2025-09-01"},
    )
    assert response.status_code == 302
    with in_town(family.commune):
        document = Document.objects.get()
        assert not VaultItem.objects.exists()
    assert (
        document.from_vault
        and document.title == TITLE
        and document.valid_until.isoformat() == "2026-12-31"
    )
    assert b"".join(
        agent_client.get(f"/castres/gestion/justificatifs/{document.pk}/fichier/").streaming_content
    ) == make_pdf(SECRET)


def test_sharing_can_keep_a_copy(stored, family, family_client, in_town):
    response = family_client.post(
        f"/castres/api/coffre-fort/{stored.public_id}/transmettre/",
        {"kind": "autre", "keep_copy": True},
        content_type="application/json",
    )
    assert response.status_code == 201
    with in_town(family.commune):
        assert VaultItem.objects.count() == 1 and Document.objects.count() == 1


def test_vault_quota(family, media, in_town, settings):
    from django.core.exceptions import ValidationError

    settings.VAULT_HOUSEHOLD_QUOTA_BYTES = 10
    with in_town(family.commune), pytest.raises(ValidationError) as exc:
        services.vault_store(
            household=family.household, uploaded_file=upload(make_pdf()), title="x"
        )
    assert exc.value.messages[0].startswith("Votre coffre-fort est plein")


def test_deploy_check_refuses_the_default_master_key(settings):
    from documents.checks import DEV_KEY, vault_master_key

    settings.VAULT_MASTER_KEY = DEV_KEY
    assert [e.id for e in vault_master_key(None)] == ["documents.E001"]
    settings.VAULT_MASTER_KEY = "k" * 48
    assert vault_master_key(None) == []
