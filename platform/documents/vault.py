"""Encryption of the private vault ("coffre-fort", Bassens: "documents non
consultables par la Mairie").

Each family has its own key (the "family key"), which seals its files and
their metadata (title, original name, type) with AES-256-GCM; the associated
data binds each blob to its town, household and item, so a blob copied onto
another row does not decrypt. docs/decisions/0701-private-vault.md.

Master keys are versioned (key rotation, docs/operations.md). A family key is
stored WRAPPED (AES-GCM under a key derived from a master key) in
`documents.VaultKey`, with the id of that master key: `manage.py
rotate_vault_keys` re-wraps every family key under the current master key,
town by town, without touching a single file. Families whose vault predates
versioned keys have no row yet: their family key is derived (HKDF-SHA256)
from master key LEGACY_KEY_ID, the town's schema and the household id, as it
always was; rotation stores it wrapped. A database dump alone decrypts nothing.
"""

from __future__ import annotations

import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connection

MAGIC = b"GFV1"  # blob format version (unchanged by key rotation: only wrapping changes)
_SALT = b"guichet-famille/coffre-fort/v1"
_KEK_SALT = b"guichet-famille/coffre-fort/kek/v2"
_NONCE = 12
LEGACY_KEY_ID = "1"  # the master key that derived the families' keys before versioning


class VaultError(Exception):
    """A blob that does not decrypt with this family's key (tampered or misplaced),
    or a family key whose master key is not configured."""


def master_keys() -> dict[str, bytes]:
    """Master keys by id: the current one and the retired ones still configured."""
    keys = {str(k): str(v).encode() for k, v in settings.VAULT_RETIRED_MASTER_KEYS.items()}
    keys[str(settings.VAULT_MASTER_KEY_ID)] = settings.VAULT_MASTER_KEY.encode()
    return keys


def current_key_id() -> str:
    return str(settings.VAULT_MASTER_KEY_ID)


def _hkdf(master: bytes, *, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(master)


def legacy_family_key(*, schema: str, household_id: int) -> bytes:
    master = master_keys().get(LEGACY_KEY_ID)
    if master is None:
        raise VaultError(f"clé maîtresse {LEGACY_KEY_ID} absente")
    return _hkdf(master, salt=_SALT, info=f"{schema}:{household_id}".encode())


def _kek_aad(schema: str, household_id: int) -> bytes:
    return f"{schema}:{household_id}:family-key".encode()


def wrap(family: bytes, *, schema: str, household_id: int, key_id: str | None = None) -> bytes:
    key_id = key_id or current_key_id()
    kek = _hkdf(master_keys()[key_id], salt=_KEK_SALT, info=key_id.encode())
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(kek).encrypt(nonce, family, _kek_aad(schema, household_id))


def unwrap(wrapped: bytes, *, key_id: str, schema: str, household_id: int) -> bytes:
    master = master_keys().get(str(key_id))
    if master is None:
        raise VaultError(f"clé maîtresse {key_id} absente")
    kek = _hkdf(master, salt=_KEK_SALT, info=str(key_id).encode())
    wrapped = bytes(wrapped)
    try:
        return AESGCM(kek).decrypt(
            wrapped[:_NONCE], wrapped[_NONCE:], _kek_aad(schema, household_id)
        )
    except InvalidTag:
        raise VaultError(f"clé de famille illisible avec la clé maîtresse {key_id}") from None


def family_key(*, schema: str, household_id: int, create: bool = False) -> bytes:
    """The family's key, from its wrapped row (documents.VaultKey in `schema`),
    else the legacy derivation. `create` (sealing): a family without a row gets
    one, wrapped under the current master key."""

    table = f'"{schema}".documents_vaultkey'  # the town's, whatever the search_path
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key_id, wrapped FROM {table} WHERE household_id = %s", [household_id]
        )
        row = cursor.fetchone()
    if row is not None:
        return unwrap(row[1], key_id=row[0], schema=schema, household_id=household_id)
    try:
        key = legacy_family_key(schema=schema, household_id=household_id)
    except VaultError:
        if not create:
            raise
        key = os.urandom(32)  # the legacy master key is gone: this family had no vault
    if create:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (household_id, key_id, wrapped) "
                "VALUES (%s, %s, %s) ON CONFLICT (household_id) DO NOTHING",
                [
                    household_id,
                    current_key_id(),
                    wrap(key, schema=schema, household_id=household_id),
                ],
            )
    return key


def _aad(schema: str, household_id: int, item_id: str, part: str) -> bytes:
    return f"{schema}:{household_id}:{item_id}:{part}".encode()


def seal(
    data: bytes,
    *,
    schema: str,
    household_id: int,
    item_id: str,
    part: str,
    key: bytes | None = None,
) -> bytes:
    nonce = os.urandom(_NONCE)
    key = key or family_key(schema=schema, household_id=household_id, create=True)
    return (
        MAGIC + nonce + AESGCM(key).encrypt(nonce, data, _aad(schema, household_id, item_id, part))
    )


def open_sealed(
    blob: bytes,
    *,
    schema: str,
    household_id: int,
    item_id: str,
    part: str,
    key: bytes | None = None,
) -> bytes:
    blob = bytes(blob)
    if not blob.startswith(MAGIC):
        raise VaultError("format inconnu")
    nonce, ciphertext = blob[len(MAGIC) : len(MAGIC) + _NONCE], blob[len(MAGIC) + _NONCE :]
    key = key or family_key(schema=schema, household_id=household_id)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, _aad(schema, household_id, item_id, part))
    except InvalidTag:
        raise VaultError("déchiffrement impossible") from None


def seal_metadata(meta: dict, **where) -> bytes:
    return seal(json.dumps(meta, ensure_ascii=False).encode(), part="meta", **where)


def open_metadata(blob: bytes, **where) -> dict:
    try:
        return json.loads(open_sealed(blob, part="meta", **where))
    except (ValueError, UnicodeDecodeError):
        raise VaultError("métadonnées illisibles") from None
