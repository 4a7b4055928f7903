"""Vault key rotation: versioned master keys, family keys re-wrapped town by
town (manage.py rotate_vault_keys), old items readable after it; an item that
cannot be decrypted degrades only itself and is reported."""

import io
import logging

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from documents import services
from documents import vault as crypto
from documents.models import VaultItem, VaultKey
from documents.testing import login, make_pdf
from families.testing import make_family
from tenants.onboarding import onboard_yaml_text

OLD = "ancienne-cle-maitresse-" + "a" * 30
NEW = "nouvelle-cle-maitresse-" + "b" * 30


@pytest.fixture
def third_town(castres):
    """A third town (Castres's YAML under another slug), in the test's transaction."""
    text = (django_settings.TENANT_CONFIGS_DIR / "castres.yaml").read_text()
    for old, new in (
        ("slug: castres", "slug: rotation"),
        ("name: Castres", "name: Rotation"),
        ("aliases: [ville-castres]", "aliases: []"),
        ('insee_code: "81065"', 'insee_code: "99998"'),
    ):
        text = text.replace(old, new)
    return onboard_yaml_text(text, source="rotation.yaml").commune


def _store(town, in_town, title):
    family = make_family(town, key=f"vault-{town.slug}-{title}", last_name="Coffre")
    with in_town(town):
        item = services.vault_store(
            household=family.household,
            uploaded_file=SimpleUploadedFile(f"{title}.pdf", make_pdf(title)),
            title=title,
        )
        return family, item


def _read(town, in_town, item):
    with in_town(town):
        item = VaultItem.objects.get(pk=item.pk)
        meta, content = services.vault_read(item)
        return meta["title"], content


def test_rotation_rewraps_three_towns_and_old_items_stay_readable(
    settings, media, castres, bondoufle, third_town, in_town
):
    settings.VAULT_MASTER_KEY, settings.VAULT_MASTER_KEY_ID = OLD, "1"
    settings.VAULT_RETIRED_MASTER_KEYS = {}
    towns = [castres, bondoufle, third_town]
    stored = [(town, *_store(town, in_town, f"Titre {town.slug}")) for town in towns]
    for town, _family, _item in stored:
        with in_town(town):
            # A family of the old days: no wrapped key yet (derived from master key 1).
            VaultKey.objects.all().delete()

    # The operator sets a new master key and keeps the old one as retired.
    settings.VAULT_MASTER_KEY, settings.VAULT_MASTER_KEY_ID = NEW, "2"
    settings.VAULT_RETIRED_MASTER_KEYS = {"1": OLD}
    out = io.StringIO()
    call_command("rotate_vault_keys", stdout=out)
    text = out.getvalue()
    for town in towns:
        assert f"{town.slug} : 1 clé(s) re-chiffrée(s), 0 déjà à jour, 0 en échec" in text
        with in_town(town):
            assert set(VaultKey.objects.values_list("key_id", flat=True)) == {"2"}

    # Resumable: a second run finds nothing to do.
    again = io.StringIO()
    call_command("rotate_vault_keys", stdout=again)
    assert again.getvalue().count("0 clé(s) re-chiffrée(s), 1 déjà à jour") == 3

    # The old key removed: every old item is still readable, byte for byte.
    settings.VAULT_RETIRED_MASTER_KEYS = {}
    for town, _family, item in stored:
        title, content = _read(town, in_town, item)
        assert title == f"Titre {town.slug}" and content == make_pdf(title)
    # And a new item is sealed under the new key.
    _town, _family, item = stored[0][0], *_store(castres, in_town, "Après rotation")
    assert _read(castres, in_town, item)[0] == "Après rotation"


def test_a_missing_retired_key_is_reported_and_the_run_can_resume(
    settings, media, castres, in_town
):
    settings.VAULT_MASTER_KEY, settings.VAULT_MASTER_KEY_ID = OLD, "1"
    settings.VAULT_RETIRED_MASTER_KEYS = {}
    _family, item = _store(castres, in_town, "Titre")
    settings.VAULT_MASTER_KEY, settings.VAULT_MASTER_KEY_ID = NEW, "2"  # key 1 forgotten
    err = io.StringIO()
    with pytest.raises(CommandError, match="VAULT_RETIRED_MASTER_KEYS"):
        call_command("rotate_vault_keys", "castres", stdout=io.StringIO(), stderr=err)
    assert "clé maîtresse 1 absente" in err.getvalue()
    settings.VAULT_RETIRED_MASTER_KEYS = {"1": OLD}  # given back: the run completes
    call_command("rotate_vault_keys", "castres", stdout=io.StringIO())
    settings.VAULT_RETIRED_MASTER_KEYS = {}
    assert _read(castres, in_town, item)[0] == "Titre"


def test_a_corrupted_item_degrades_only_itself(family, media, in_town, caplog):
    with in_town(family.commune):
        good = services.vault_store(
            household=family.household,
            uploaded_file=SimpleUploadedFile("a.pdf", make_pdf("bon")),
            title="Avis d'imposition",
        )
        bad = services.vault_store(
            household=family.household,
            uploaded_file=SimpleUploadedFile("b.pdf", make_pdf("abime")),
            title="Document abîmé",
        )
        blob = bytearray(bad.metadata)
        blob[-1] ^= 0xFF  # one flipped bit: the authentication tag fails
        VaultItem.objects.filter(pk=bad.pk).update(metadata=bytes(blob))
    client = login(family.user, family.commune)
    with caplog.at_level(logging.ERROR, logger="documents.services"):
        page = client.get("/castres/coffre-fort/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Avis d&#x27;imposition" in html or "Avis d'imposition" in html
    assert "Ce document ne peut pas être déchiffré" in html
    assert "Document abîmé" not in html
    assert any(r.getMessage() == "vault_item_unreadable" for r in caplog.records)  # operator

    api = client.get("/castres/api/coffre-fort/").json()
    problems = {row["id"]: row["problem"] for row in api}
    assert problems[str(good.public_id)] == "" and problems[str(bad.public_id)]
    download = client.get(f"/castres/coffre-fort/{bad.public_id}/fichier/")
    assert download.status_code == 302  # back to the vault, with the French message
    assert crypto.MAGIC  # the format itself is unchanged by rotation
