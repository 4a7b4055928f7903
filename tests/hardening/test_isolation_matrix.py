"""ISOLATION MATRIX, generated: every URL pattern of both URLconfs and every
operation of a town's OpenAPI schema, requested as every actor, against the
outcome DECLARED NEXT TO THE VIEW (`@access(...)`, platform/core/access.py).

- A pattern or operation whose view carries no declaration fails
  test_every_route_and_operation_declares_its_access, saying what to add.
- The world is built once for the module: famille Alpha (Castres) owns the
  objects in the URLs; famille Beta is another household of Castres; famille
  Gamma (Bondoufle) owns objects with the SAME primary keys as Alpha's (the
  sequences of both schemas are aligned first), so a query that forgot its
  household or its schema shows another family's row instead of a 404.
- For each declared pattern: GET as each declared actor; each unsafe method
  (declared for pages, from the view class for the API) as each actor the
  declaration refuses, asserting the refusal AND that the request wrote
  nothing (pg_stat_xact_user_tables of the open transaction).
- Not declared, checked everywhere: a session of another site (Bondoufle's
  family and admin, a platform operator on a town; a town's admin on the
  platform) is anonymous there; Gamma on its own town's URL with the same ids
  gets Alpha's outcome on ITS objects, never a page naming Alpha.

docs/security.md maps the threat to this file; docs/architecture.md says how
to declare a new view.
"""

from __future__ import annotations

import json
import re
import uuid
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings

from core.access import ACTORS, declared_for
from families.testing import login
from tests.hardening.world import (
    AREAS,
    DEFAULT_ARGS,
    ENTRIES,
    Entry,
    area_of,
    build_household,
    build_staff,
    gets,
    town_constants,
    url_for,
    view_class,
)

pytestmark = pytest.mark.django_db

TOWN, TWIN = "castres", "bondoufle"
TOWN_ACTORS = [a for a in ACTORS if a != "operator"]

# World values that belong to a household: the URLs built from them are the
# ones where Gamma's twin ids must show Gamma's rows in Bondoufle.
HOUSEHOLD_OBJECTS = {  # (`booking@alsh` counts as `booking`)
    "child",
    "member",
    "demande",
    "attachment",
    "document",
    "vault_item",
    "invoice",
    "overdue_invoice",
    "payment",
    "mandate",
    "household",
    "adult",
    "waiting_entry",
    "booking",
    "absence",
    "registration_document",
    "application",
    "debit",
}
LOGIN_PATHS = ("/compte/connexion/", "/admin/login/")
# Tables a refused request may legitimately write (its session, the access log).
WRITES_ALLOWED = {"django_session", "accounts_usersession", "audit_accessrecord"}


def _view_label(callback) -> str:
    cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    target = cls or callback
    return f"{target.__module__}.{target.__qualname__}"


def _how_to_declare(entry: Entry) -> str:
    cls = getattr(entry.callback, "view_class", None) or getattr(entry.callback, "cls", None)
    where = _view_label(entry.callback)
    if where.startswith(("django.", "drf_spectacular.", "django_otp.", "rest_framework.")):
        return (
            f"  /{entry.path} ({entry.name}), vue tierce {where}: dans l'URLconf qui l'inclut, "
            f'`declare("{entry.name or "<namespace>:*"}", PRESET)` (core.access)'
        )
    target = "la classe" if cls else "la fonction"
    return (
        f"  /{entry.path} ({entry.name}): ajoutez sur {target} {where}, en premier "
        f"décorateur, `@access(PRESET)` (from core.access import access, PUBLIC, "
        f"FAMILY_PAGE, FAMILY_OBJECT, STAFF, TOWN_ADMIN...; `pk=\"child\"` pour l'objet de l'URL)"
    )


def test_every_route_and_operation_declares_its_access(castres, client):
    missing = [_how_to_declare(e) for e in ENTRIES if e.declared is None]
    # The API as its schema describes it: every operation resolves to a declared view.
    from django.urls import Resolver404, resolve

    schema = client.get(f"/{TOWN}/api/schema/", {"format": "json"}).json()
    operations = 0
    for path, item in schema["paths"].items():
        match = None
        for sample in ("1", str(uuid.UUID(int=1))):  # integer ids, public uuids
            try:
                concrete = re.sub(r"\{[^}]+\}", sample, path).removeprefix(f"/{TOWN}")
                match = resolve(concrete, urlconf="portal.urls_tenant")
                break
            except Resolver404:
                continue
        if match is None:
            missing.append(f"  {path}: opération du schéma sans route")
            continue
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                operations += 1
                if declared_for(match.func, match.view_name) is None:
                    missing.append(f"  {method.upper()} {path}: vue non déclarée")
    assert operations > 20 and len(ENTRIES) > 150, "l'énumération ne voit pas le produit"
    assert not missing, (
        "Routes sans déclaration d'accès (platform/core/access.py, docs/architecture.md) :\n"
        + "\n".join(sorted(set(missing)))
    )


# --- the world ---------------------------------------------------------------------------
def _align_sequences(schemas):
    """Every sequence of both schemas moved to the same next value: rows then
    created in the same order get the same primary keys in both towns."""
    with connection.cursor() as c:
        c.execute(
            "SELECT sequencename, max(last_value) FROM pg_sequences "
            "WHERE schemaname = ANY(%s) GROUP BY sequencename HAVING count(*) = %s",
            [list(schemas), len(schemas)],
        )
        for name, last in c.fetchall():
            for schema in schemas:
                c.execute("SELECT setval(%s, %s)", [f'"{schema}"."{name}"', (last or 0) + 1000])


def _operator():
    from django.contrib.contenttypes.models import ContentType
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    connection.set_schema_to_public()
    operator = User.objects.create_superuser(
        "ops-matrice", "ops-matrice@example.org", "un-mot-de-passe-operateur", role="operator"
    )
    device = TOTPDevice.objects.create(user=operator, name="tests", confirmed=True)
    return operator, device, ContentType.objects.get_for_model(User).pk


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once in a transaction rolled back after the module (each test
    runs in a savepoint inside it)."""
    from tenants.models import Commune

    media = override_settings(
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")), MULTITENANT_RELATIVE_MEDIA_ROOT="%s"
    )
    # The towns' FranceConnect and API Particulier answer from the local stand-in
    # (platform/idsim): their pages are reachable as in a town that has them.
    from idsim.testing import identity_stand_in

    stand_in = identity_stand_in()
    with django_db_blocker.unblock():
        media.enable()
        stand_in.__enter__()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            connection.set_schema_to_public()
            town = Commune.objects.get(slug=TOWN)
            twin = Commune.objects.get(slug=TWIN)
            _align_sequences([town.schema_name, twin.schema_name])
            alpha = build_household(town, key="alpha", last_name="Alpha", vault_id=1)
            gamma = build_household(twin, key="gamma", last_name="Gamma", vault_id=1)
            collisions = {
                k: (getattr(v, "pk", v), getattr(gamma[k], "pk", gamma[k]))
                for k, v in alpha.items()
                if not k.startswith("activity@")
            }  # activities: town config
            differ = {k: ids for k, ids in collisions.items() if ids[0] != ids[1]}
            assert not differ, f"ids d'Alpha et de Gamma différents : {differ}"
            beta = build_household(town, key="beta", last_name="Beta", vault_id=2, content=False)
            staff = build_staff(town, "castres")
            twin_staff = build_staff(twin, "bondoufle", {k: u.pk for k, u in staff.items()})
            operator, device, user_ct = _operator()
            world = SimpleNamespace(
                town=town,
                twin=twin,
                alpha=alpha,
                beta=beta,
                gamma=gamma,
                staff=staff,
                twin_staff=twin_staff,
                operator=operator,
                device=device,
                values={
                    TOWN: {**town_constants(town), **alpha},
                    TWIN: {**town_constants(twin), **gamma},
                    "platform": {
                        "operator": operator,
                        "user_content_type": user_ct,
                        "admin_app": "tenants",
                        "admin_unknown": "tenants/commune",
                        "commune": town,
                        "operator_device": device,
                    },
                },
                clients={},
            )
            _clients(world)  # signed in here: each test's savepoint would drop the sessions
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            connection.set_schema_to_public()
            stand_in.__exit__(None, None, None)
            media.disable()


# --- actors ---------------------------------------------------------------------------------
def _signed_in(commune, user):
    client = Client()
    login(client, commune, user)
    return client


def _operator_client(world):
    from django_otp import DEVICE_ID_SESSION_KEY

    client = Client()
    connection.set_schema_to_public()
    client.force_login(world.operator)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = world.device.persistent_id
    session.save()
    return client


def _clients(world):
    """One client per actor, signed in once (their sessions live in the
    module's transaction)."""
    if not world.clients:
        c = world.clients
        c["anonymous"] = Client()
        c["family_a"] = _signed_in(world.town, world.alpha["user"])
        c["family_b"] = _signed_in(world.town, world.beta["user"])
        for role, user in world.staff.items():
            c[role] = _signed_in(world.town, user)
        c["twin_family"] = _signed_in(world.twin, world.gamma["user"])
        c["twin_admin"] = _signed_in(world.twin, world.twin_staff["town_admin"])
        c["operator"] = _operator_client(world)
        connection.set_schema_to_public()
    return world.clients


def _visitor(client):
    """A fresh client carrying another client's cookies: a site that does not
    know a session deletes its cookie, which must not sign the actor out."""
    fresh = Client()
    for name, morsel in client.cookies.items():
        fresh.cookies[name] = morsel.value
    return fresh


def _actor_client(world, entry, actor):
    clients = _clients(world)
    if actor in ("agent", "agent_other_area"):
        area = area_of(entry)
        mine = area or "alsh"
        other = next(a for a in AREAS if a != mine) if area else "billing"
        return clients[f"agent_{mine if actor == 'agent' else other}"]
    return clients[actor]


# --- requests and outcomes --------------------------------------------------------------
def _url(world, entry, slug):
    return url_for(world.values["platform" if entry.site == "platform" else slug], entry, slug)


def _request(client, method, url, api):
    if method == "get":
        return client.get(url)
    if api:
        return client.generic(method.upper(), url, "{}", content_type="application/json")
    return client.generic(method.upper(), url, "", content_type="application/x-www-form-urlencoded")


def _outcome(response, api) -> str:
    status = response.status_code
    location = response.get("Location", "")
    if 300 <= status < 400 and any(p in location for p in LOGIN_PATHS):
        return "login"
    if 200 <= status < 400:
        return "ok"
    if api and status == 401:
        return "login"
    return {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method"}.get(
        status, str(status)
    )


def _matches(expected, got, api) -> bool:
    # The API answers an anonymous caller 403 (session authentication, no
    # WWW-Authenticate scheme): `login` accepts it.
    return got == expected or (expected == "login" and api and got == "forbidden")


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _writes():
    with connection.cursor() as c:
        c.execute(
            "SELECT schemaname || '.' || relname, n_tup_ins + n_tup_upd + n_tup_del "
            "FROM pg_stat_xact_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
        )
        return dict(c.fetchall())


def _unsafe_methods(entry):
    cls = view_class(entry)
    if cls is not None:
        return [m for m in ("post", "put", "patch", "delete") if hasattr(cls, m)]
    return [m for m in entry.declared.methods if m != "get"]


def _refused(declared, actors):
    """One actor per refusal outcome (the first in ACTORS order: family_b
    before staff): an unsafe request is tried once per way of refusing."""
    chosen = {}
    for actor in actors:
        outcome = declared.outcome(actor)
        if outcome != "ok":
            chosen.setdefault(outcome, actor)
    return list(chosen.values())


DECLARED = [e for e in ENTRIES if e.declared is not None]


@pytest.mark.parametrize("entry", DECLARED, ids=[e.id for e in DECLARED])
def test_each_actor_gets_the_declared_outcome(world, entry):
    declared = entry.declared
    problems = []
    actors = TOWN_ACTORS if entry.site == "town" else ["anonymous", "operator"]
    if entry.site == "town" and not area_of(entry):
        actors = [a for a in actors if a != "agent_other_area"]  # same as `agent`
    url = _url(world, entry, TOWN)
    results = {}

    def check(actor, method, client, target, expected, *, must_not_write=False):
        before = _writes() if must_not_write else None
        try:
            response = _request(client, method, target, entry.api)
        except Exception as exc:  # noqa: BLE001 - reported with the route and actor
            problems.append(f"{actor} {method.upper()} {target}: exception {exc!r}")
            return None
        got = _outcome(response, entry.api)
        if not _matches(expected, got, entry.api):
            problems.append(
                f"{actor} {method.upper()} {target}: attendu {expected}, obtenu {got}"
                f" ({response.status_code} {response.get('Location', '')})"
            )
        if must_not_write:
            after = _writes()
            written = {
                t: n - before.get(t, 0)
                for t, n in after.items()
                if n != before.get(t, 0) and t.split(".", 1)[1] not in WRITES_ALLOWED
            }
            if written:
                problems.append(f"{actor} {method.upper()} {target}: refusé mais a écrit {written}")
        return response

    has_get = gets(entry)
    if has_get:
        for actor in actors:
            response = check(
                actor, "get", _actor_client(world, entry, actor), url, declared.outcome(actor)
            )
            results[actor] = response
            if actor == "family_a" and response is not None and response.status_code == 200:
                if b"Gamma" in _body(response):
                    problems.append(f"family_a GET {url}: la page montre Gamma (Bondoufle)")
    for method in _unsafe_methods(entry):
        for actor in _refused(declared, actors):
            check(
                actor,
                method,
                _actor_client(world, entry, actor),
                url,
                declared.outcome(actor),
                must_not_write=True,
            )

    clients = _clients(world)
    anonymous = declared.outcome("anonymous")
    method = "get" if has_get else (_unsafe_methods(entry) or ["get"])[0]
    if anonymous != "ok":
        # A session of another site is anonymous here: one such visitor per
        # route, in turn (Bondoufle's family, Bondoufle's admin, an operator).
        if entry.site == "town":
            foreign = [
                ("bondoufle_family", "twin_family"),
                ("bondoufle_admin", "twin_admin"),
                ("operator", "operator"),
            ][DECLARED.index(entry) % 3]
        else:
            foreign = ("castres_admin", "town_admin")
        check(
            foreign[0],
            method,
            _visitor(clients[foreign[1]]),
            url,
            anonymous,
            must_not_write=method != "get",
        )
    # Colliding ids: Bondoufle's twin of the owner, on its own town's URL.
    used = {
        declared.args.get(a) or DEFAULT_ARGS.get(a)
        for a in re.findall(r"<(?:\w+:)?(\w+)>", entry.path)
    }
    used = {name.split("@")[0] for name in used if name}
    if entry.site == "town" and has_get and used & HOUSEHOLD_OBJECTS:
        staff_route = declared.outcome("family_a") != "ok"
        twin, owner = ("twin_admin", "town_admin") if staff_route else ("twin_family", "family_a")
        twin_url = _url(world, entry, TWIN)
        response = check(twin, "get", clients[twin], twin_url, declared.outcome(owner))
        if response is not None and response.status_code == 200 and b"Alpha" in _body(response):
            problems.append(f"{twin} GET {twin_url}: la page montre la famille Alpha (Castres)")
    connection.set_schema_to_public()
    assert not problems, f"{entry.id} ({_view_label(entry.callback)}):\n" + "\n".join(problems)


# --- bad input never gives a 500 ----------------------------------------------------------
# Every unsafe route is also sent, by an actor it lets in, bodies built from the
# page's own form fields (or arbitrary ones) filled with junk: over-long text,
# out-of-range and negative numbers, impossible dates, HTML, broken formset
# management data. The product must answer with a French refusal (4xx) or do
# something sensible (2xx/3xx), never fail (5xx). Each test runs in a savepoint
# of the world's transaction: whatever an accepted junk request wrote is undone.
JUNK_VALUES = (
    "x" * 5000,
    "-99999999999999999999",
    "31/02/2026",
    '<script>alert("x")</script>',
    "",
)
_FIELD_NAME = re.compile(r"""<(?:input|select|textarea)\b[^>]*\bname=["']([^"']+)["']""", re.I)
# Signing out or dropping sessions would sign the shared clients out (their
# cookies), whatever the rollback restores in the database.
JUNK_SKIPPED = ("logout", "deconnexion", "sessions", "login", "connexion")


def _first_admitted(entry):
    order = ["town_admin", "family_a", "agent", "manager", "anonymous"]
    if entry.site == "platform":
        order = ["operator", "anonymous"]
    return next((a for a in order if entry.declared.outcome(a) == "ok"), None)


def _form_fields(client, url) -> list[str]:
    try:
        page = client.get(url)
    except Exception:  # noqa: BLE001 - a view that only answers POST
        return []
    if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
        return []
    names = set(_FIELD_NAME.findall(_body(page).decode("utf-8", "replace")))
    return sorted(names - {"csrfmiddlewaretoken"})


JUNK_ENTRIES = [
    e
    for e in DECLARED
    if _unsafe_methods(e) and _first_admitted(e) and not any(s in e.id for s in JUNK_SKIPPED)
]


@pytest.mark.parametrize("entry", JUNK_ENTRIES, ids=[e.id for e in JUNK_ENTRIES])
def test_junk_input_is_refused_or_handled_never_a_server_error(world, entry):
    actor = _first_admitted(entry)
    slug = TOWN if entry.site == "town" else None
    url = _url(world, entry, slug)
    client = _visitor(
        _actor_client(world, entry, actor) if actor != "operator" else _clients(world)["operator"]
    )
    api = view_class(entry) is not None and "/api/" in url
    fields = ([] if api else _form_fields(client, url)) or [
        "name",
        "title",
        "email",
        "date",
        "day",
        "quantity",
        "amount",
        "text",
        "message",
    ]
    failures = []
    for method in _unsafe_methods(entry):
        for junk in JUNK_VALUES:
            data = {name: junk for name in fields}
            # A formset's management data, broken as well.
            data.update({k: junk for k in fields if k.endswith("-TOTAL_FORMS")})
            sid = transaction.savepoint()
            try:
                if api:
                    response = client.generic(
                        method.upper(), url, json.dumps(data), content_type="application/json"
                    )
                elif method == "post":
                    response = client.post(url, data)
                else:
                    response = client.generic(
                        method.upper(), url, "", content_type="application/x-www-form-urlencoded"
                    )
                if response.status_code >= 500:
                    failures.append(
                        f"{method.upper()} {url} ({junk[:20]!r}): {response.status_code}"
                    )
            finally:
                transaction.savepoint_rollback(sid)
                connection.set_schema_to_public()
    assert not failures, f"{actor}: " + "\n".join(failures)
