"""Who changed the public space, and when: the versions django-simple-history
keeps of every news item, page, menu, restaurant and règlement (and of a news
item's attachments and a menu's days). Read by the staff pages
/<slug>/gestion/contenu/<kind>/<pk>/historique/ (docs/decisions/1003)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

ACTIONS = {"+": "création", "~": "modification", "-": "suppression"}
# Internal fields no reader cares about in a version's list of changes.
_SKIPPED = {"updated_at", "created_at", "size", "content_type", "position"}


@dataclass(frozen=True)
class Version:
    at: object  # aware datetime
    author: str
    action: str  # French
    changes: tuple[str, ...]  # French labels of the fields that changed
    record: object


def _author(record) -> str:
    user = record.history_user
    if user is None:
        return "système (import, démonstration ou tâche planifiée)"
    return user.get_full_name() or user.get_username()


def _labels(model: type[models.Model], fields) -> tuple[str, ...]:
    out = []
    for name in fields:
        if name in _SKIPPED:
            continue
        try:
            out.append(str(model._meta.get_field(name).verbose_name))
        except Exception:  # a field removed since that version
            out.append(name)
    return tuple(out)


def versions(model: type[models.Model], pk: int, *, limit: int = 200) -> list[Version]:
    """The versions of one object, newest first, with the fields each changed.

    Two queries whatever the number of versions (records + their authors)."""
    records = list(
        model.history.filter(id=pk)
        .select_related("history_user")
        .order_by("-history_id")[: limit + 1]
    )
    out = []
    for i, record in enumerate(records[:limit]):
        older = records[i + 1] if i + 1 < len(records) else None
        if record.history_type == "~" and older is not None:
            delta = record.diff_against(older)
            changes = _labels(model, delta.changed_fields)
        else:
            changes = ()
        out.append(
            Version(
                record.history_date, _author(record), ACTIONS[record.history_type], changes, record
            )
        )
    return out


def deletions(model: type[models.Model], *, limit: int = 20) -> list[Version]:
    """The latest deletions of a kind of content (the object itself is gone)."""
    records = model.history.filter(history_type="-").select_related("history_user")
    return [
        Version(r.history_date, _author(r), ACTIONS["-"], (), r)
        for r in records.order_by("-history_id")[:limit]
    ]
