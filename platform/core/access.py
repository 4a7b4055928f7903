"""Who may reach a view, DECLARED NEXT TO IT.

    @access(FAMILY_OBJECT, pk="child")
    def child_detail(request, pk): ...

    @access(STAFF("billing"), methods=POST)
    class StaffThing(APIView): ...

A declaration is metadata only: `access(...)` sets one attribute on the view
(function or class) and returns it unchanged, so it changes nothing at run time
and costs nothing per request. tests/hardening/test_isolation_matrix.py walks
every URL pattern of both URLconfs and every operation of a town's OpenAPI
schema, FAILS for any view without a declaration, and requests each one as
every actor below, asserting the declared outcome (docs/security.md).

Views we do not own (Django's admin, drf-spectacular's schema...) are declared
by URL name with `declare("admin:*", OPERATOR_ONLY)` in the URLconf that
includes them.

Actors (the matrix builds each one; Castres is the town under test):
- anonymous
- family_a: the household owning the objects in the URL
- family_b: another household of the same town
- agent: an agent of the view's `area` (any area when the view has none)
- agent_other_area: an agent of another area (same as `agent` without area)
- manager, town_admin: the town's staff roles
- operator: a platform operator (public schema) — declared for platform pages

NOT declared, checked by the matrix for every view: a session belongs to one
site, so a family or staff member of ANOTHER town, or an operator on a town's
pages (or any town account on the platform's pages), is anonymous there and
gets the `anonymous` outcome; and the family of another town whose objects
have the SAME primary keys gets, in its own town, family_a's outcome on its
own objects, never family A's data.

Outcomes:
- "ok": 2xx, or a redirect that is not to a sign-in page
- "login": must sign in first (a page redirects to the sign-in page; the API,
  session-authenticated without a WWW-Authenticate scheme, answers 401/403)
- "forbidden": 403
- "not_found": 404 (what another household's or town's object must look like)
- "method": 405 (the view answers only other methods)
- "bad_request": 400, whoever asks (the matrix's example arguments are not
  valid for this view: a made-up token, an unsigned provider notification)
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from types import MappingProxyType

ACTORS = (
    "anonymous",
    "family_a",
    "family_b",
    "agent",
    "agent_other_area",
    "manager",
    "town_admin",
    "operator",
)
OUTCOMES = ("ok", "login", "forbidden", "not_found", "method", "bad_request")
# Shorthands accepted as keyword overrides: `access(PRESET, staff="not_found")`.
GROUPS = {
    "family": ("family_a", "family_b"),
    "staff": ("agent", "agent_other_area", "manager", "town_admin"),
    "agents": ("agent", "agent_other_area"),
    "everyone": ACTORS,
}
GET, POST = ("get",), ("post",)
GET_POST = ("get", "post")
# `area=MODULE`: the staff area is the module of the URL (booking's shared views).
MODULE = "<module>"

ATTRIBUTE = "__access__"


@dataclass(frozen=True)
class Access:
    """The declared outcome of each actor, plus what the matrix needs to build
    a URL: `args` maps a URL argument to a named object of the test world
    (tests/hardening/world.py: DEFAULT_ARGS, build_household)."""

    expect: MappingProxyType
    area: str | None = None
    methods: tuple[str, ...] = GET
    args: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    query: str = ""

    def outcome(self, actor: str) -> str:
        return self.expect[actor]

    def but(self, **overrides) -> Access:
        """The same declaration with some actors' outcomes changed (a group
        name such as `staff` or `family` sets all its actors)."""
        expect = dict(self.expect)
        for actor, outcome in overrides.items():
            for one in GROUPS.get(actor, (actor,)):
                if one not in ACTORS:
                    raise ValueError(f"acteur inconnu : {one!r} (voir core.access.ACTORS)")
                if outcome not in OUTCOMES:
                    raise ValueError(f"issue inconnue : {outcome!r} (voir core.access.OUTCOMES)")
                expect[one] = outcome
        return replace(self, expect=MappingProxyType(expect))


def _preset(area=None, **expect) -> Access:
    full = {actor: "ok" for actor in ACTORS}
    return Access(expect=MappingProxyType(full), area=area).but(**expect)


# --- presets (one line per view) ------------------------------------------------
# Everyone (public pages of a town, the platform's home, health probes).
PUBLIC = _preset()
# A signed-in account of the town, whoever it is (account settings).
SIGNED_IN = _preset(anonymous="login", operator="login")
# A family's own pages without an object in the URL: each household sees its
# own; for staff the family space does not exist (404).
FAMILY_PAGE = _preset(anonymous="login", operator="login", staff="not_found")
# A family's object in the URL: another household gets a 404, never a 403 that
# would confirm the object exists.
FAMILY_OBJECT = FAMILY_PAGE.but(family_b="not_found")
# The same for the family API (permission IsFamily: staff are refused, 403).
FAMILY_API = FAMILY_PAGE.but(staff="forbidden")
FAMILY_API_OBJECT = FAMILY_API.but(family_b="not_found")


# Town staff (second factor verified); `area` narrows agents to that service area.
def STAFF(area: str | None = None) -> Access:  # noqa: N802 (reads as a preset)
    preset = _preset(area=area, anonymous="login", operator="login", family="forbidden")
    return preset.but(agent_other_area="forbidden") if area else preset


# The town administrator only (town configuration, access journal).
TOWN_ADMIN = STAFF().but(agents="forbidden", manager="forbidden")
# Platform operators only (the operator console).
OPERATOR_ONLY = _preset(
    anonymous="login", family="login", staff="login"
)  # town accounts do not exist on the platform: anonymous there


def access(preset: Access, *, methods=None, area=None, query=None, **args_and_overrides):
    """Declare who may reach the decorated view (function or class). Keyword
    arguments that name an actor or group override its outcome; the others map
    a URL argument to an object of the test world (`pk="child"`); `query`
    is a query string whose `{name}` are world values (`activite={activity}`)."""
    overrides = {k: v for k, v in args_and_overrides.items() if k in ACTORS or k in GROUPS}
    args = {k: v for k, v in args_and_overrides.items() if k not in overrides}
    mistyped = [k for k, v in args.items() if v in OUTCOMES]
    if mistyped:  # an outcome given to a name that is no actor: a typo, not a URL argument
        raise ValueError(f"acteur inconnu : {mistyped} (voir core.access.ACTORS et GROUPS)")
    declared = preset.but(**overrides)
    changes = {"args": MappingProxyType({**declared.args, **args})}
    if methods is not None:
        changes["methods"] = tuple(methods)
    if area is not None:
        changes["area"] = area
    if query is not None:
        changes["query"] = query
    declared = replace(declared, **changes)

    def decorate(view):
        setattr(view, ATTRIBUTE, declared)
        return view

    return decorate


# --- views we do not own, declared by URL name ------------------------------------
_BY_NAME: dict[str, Access] = {}


def declare(url_name: str, preset: Access, **kwargs) -> None:
    """Declare the access of views we do not own, by URL name (`*` globs:
    "admin:*"). Call it in the URLconf that includes them."""
    holder = type("Declared", (), {})
    access(preset, **kwargs)(holder)
    _BY_NAME[url_name] = getattr(holder, ATTRIBUTE)


def declared_for(callback, url_name: str = "") -> Access | None:
    """The declaration of a resolved view: on the function, on its class
    (Django's `view_class`, DRF's `cls`), else by URL name. A class must carry
    its OWN declaration (a subclass does not inherit its parent's)."""
    found = getattr(callback, ATTRIBUTE, None)
    if found is not None:
        return found
    for cls in (getattr(callback, "view_class", None), getattr(callback, "cls", None)):
        if cls is not None and ATTRIBUTE in vars(cls):
            return vars(cls)[ATTRIBUTE]
    for pattern, declared in _BY_NAME.items():
        if url_name and fnmatch.fnmatchcase(url_name, pattern):
            return declared
    return None
