"""Registry of back-office entries: each app adds its staff work views to the
town back-office home (/<slug>/gestion/) without the back-office knowing it.

    from core.backoffice import register
    register("Listes du jour", "booking:day-lists", area="alsh")

`area`: the service area required (User.works_in); None = every staff member.
`roles`: restrict to these roles (e.g. ("town_admin",) for configuration).
Entries whose URL name does not resolve (app not merged, module off) are hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    area: str | None = None
    roles: tuple[str, ...] = ()
    group: str = "Travail"
    description: str = ""


_entries: dict[str, Entry] = {}


def register(
    label: str,
    url_name: str,
    area: str | None = None,
    *,
    roles=(),
    group: str = "Travail",
    description: str = "",
) -> Entry:
    entry = Entry(label, url_name, area, tuple(roles), group, description)
    _entries[url_name] = entry  # idempotent: apps may be readied twice in tests
    return entry


def entries() -> list[Entry]:
    return list(_entries.values())


def allowed(entry: Entry, user) -> bool:
    if not getattr(user, "is_town_staff", False):
        return False
    if entry.roles and user.role not in entry.roles:
        return False
    return entry.area is None or user.works_in(entry.area)


def entries_for(user, commune=None) -> list[tuple[Entry, str]]:
    """(entry, url) the user may open, in registration order."""
    out = []
    enabled = set(getattr(commune, "enabled_modules", ()) or ())
    for entry in _entries.values():
        if not allowed(entry, user):
            continue
        module = entry.url_name.split(":", 1)[0]
        from core.modules import module_codes

        if commune is not None and module in module_codes() and module not in enabled:
            continue
        try:
            out.append((entry, reverse(entry.url_name)))
        except NoReverseMatch:
            continue
    return out
