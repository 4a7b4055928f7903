"""Encryption of the private vault ("coffre-fort", Bassens: "documents non
consultables par la Mairie").

Each family has its own key, derived (HKDF-SHA256) from the platform's
VAULT_MASTER_KEY, the town's schema and the household id: no key is stored in
the database, a database dump alone decrypts nothing, and one family's key
opens no other family's files (in this town or another). Files and their
metadata (title, original name, type) are sealed with AES-256-GCM; the
associated data binds each blob to its town, household and item, so a blob
copied onto another row does not decrypt. docs/decisions/0701-private-vault.md.
"""

from __future__ import annotations

import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

MAGIC = b"GFV1"  # format version: lets a later key rotation tell old blobs apart
_SALT = b"guichet-famille/coffre-fort/v1"
_NONCE = 12


class VaultError(Exception):
    """A blob that does not decrypt with this family's key (tampered or misplaced)."""


def family_key(*, schema: str, household_id: int) -> bytes:
    master = settings.VAULT_MASTER_KEY.encode()
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_SALT,
        info=f"{schema}:{household_id}".encode(),
    ).derive(master)


def _aad(schema: str, household_id: int, item_id: str, part: str) -> bytes:
    return f"{schema}:{household_id}:{item_id}:{part}".encode()


def seal(data: bytes, *, schema: str, household_id: int, item_id: str, part: str) -> bytes:
    nonce = os.urandom(_NONCE)
    key = family_key(schema=schema, household_id=household_id)
    return (
        MAGIC + nonce + AESGCM(key).encrypt(nonce, data, _aad(schema, household_id, item_id, part))
    )


def open_sealed(blob: bytes, *, schema: str, household_id: int, item_id: str, part: str) -> bytes:
    blob = bytes(blob)
    if not blob.startswith(MAGIC):
        raise VaultError("format inconnu")
    nonce, ciphertext = blob[len(MAGIC) : len(MAGIC) + _NONCE], blob[len(MAGIC) + _NONCE :]
    key = family_key(schema=schema, household_id=household_id)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, _aad(schema, household_id, item_id, part))
    except InvalidTag:
        raise VaultError("déchiffrement impossible") from None


def seal_metadata(meta: dict, **where) -> bytes:
    return seal(json.dumps(meta, ensure_ascii=False).encode(), part="meta", **where)


def open_metadata(blob: bytes, **where) -> dict:
    return json.loads(open_sealed(blob, part="meta", **where))
