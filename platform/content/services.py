"""Write path of the public space (staff)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import FileField

from content.models import NewsItem
from documents.storage import delete_after_commit


@transaction.atomic
def save_content(*, form, days=None, author=None):
    """Save a validated staff form (and a menu's days); replaced files are removed after commit."""
    # The form already copied the new file onto form.instance: read the old one from the database.
    model = type(form.instance)
    old_files = _files(model.objects.get(pk=form.instance.pk)) if form.instance.pk else {}
    obj = form.save(commit=False)
    if isinstance(obj, NewsItem) and obj.author_id is None:
        obj.author = author
    obj.save()
    form.save_m2m()
    if days is not None:
        days.instance = obj
        days.save()
    new_files = _files(obj)
    delete_after_commit(
        [
            (storage, name)
            for key, (storage, name) in old_files.items()
            if new_files.get(key, (None, None))[1] != name
        ]
    )
    return obj


@transaction.atomic
def delete_content(*, obj) -> None:
    files = list(_files(obj).values())
    if isinstance(obj, NewsItem):
        for attachment in obj.attachments.all():
            files += list(_files(attachment).values())
    obj.delete()
    delete_after_commit(files)


def _files(obj) -> dict:
    out = {}
    for f in obj._meta.concrete_fields:
        if isinstance(f, FileField):
            value = getattr(obj, f.attname)
            if value:
                out[f.attname] = (value.storage, value.name)
    return out
