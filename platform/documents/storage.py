"""Removing stored files once the transaction that forgot them commits.

The path is resolved NOW: TenantFileSystemStorage derives its folder from the
connection's current schema, which may no longer be the town's when the
callback runs (a task, a test, a later request)."""

from __future__ import annotations

import logging
import os

from django.db import transaction

log = logging.getLogger(__name__)


def delete_after_commit(files) -> None:
    """`files`: (storage, name) pairs or FieldFiles."""
    resolved = []
    for item in files:
        storage, name = (item.storage, item.name) if hasattr(item, "storage") else item
        if not name:
            continue
        try:
            resolved.append((None, storage.path(name)))
        except NotImplementedError:  # remote storage: no schema-dependent local path
            resolved.append((storage, name))
    if resolved:
        transaction.on_commit(lambda: _delete(resolved))


def _delete(resolved) -> None:
    for storage, name in resolved:
        try:
            if storage is None:
                os.remove(name)
            else:
                storage.delete(name)
        except FileNotFoundError:
            pass
        except OSError:
            log.warning("fichier non supprimé", extra={"file": name})
