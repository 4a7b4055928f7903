"""ACCESS MATRIX: every household / child / demande URL and API endpoint, tried by
another family of the same town, by a family of another town whose rows have
the SAME primary keys (castres vs bondoufle), and by staff of another town.

security.md: a French portail famille let parents read other children's records
by changing an id in the URL; every object URL is tested with another family's ids.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, get_resolver
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from families.testing import PDF_BYTES, login, make_family, make_staff, use_tmp_media

pytestmark = pytest.mark.django_db

# name -> (path template, methods). {child} {member} {demande} {attachment} are
# the OWNER's (famille Alpha, Castres) ids.
FAMILY_PAGES = {
    "families:dashboard": ("mon-espace/", ["get"]),
    "families:family": ("mon-espace/famille/", ["get"]),
    "families:child-add": ("mon-espace/famille/enfants/ajouter/", ["get"]),
    "families:child": ("mon-espace/famille/enfants/{child}/", ["get"]),
    "families:health": ("mon-espace/famille/enfants/{child}/fiche-sanitaire/", ["get", "post"]),
    "families:coordinates": ("mon-espace/coordonnees/", ["get"]),
    "families:entourage": ("mon-espace/entourage/", ["get"]),
    "families:entourage-remove": ("mon-espace/entourage/{member}/retirer/", ["post"]),
    "families:quotient-familial": ("mon-espace/quotient-familial/", ["get"]),
    # No object id; its own access (API Particulier on or off) is tested in
    # platform/families/tests/test_qf_api_particulier.py and the hardening matrix.
    "families:quotient-familial-caf": ("mon-espace/quotient-familial/caf/", []),
    "families:demandes": ("mon-espace/demandes/", ["get"]),
    "families:demande": ("mon-espace/demandes/{demande}/", ["get", "post"]),
    "families:demande-cancel": ("mon-espace/demandes/{demande}/annuler/", ["post"]),
    "families:attachment": ("mon-espace/demandes/{demande}/pieces/{attachment}/", ["get"]),
    "families:summary": ("mon-espace/recapitulatif/", ["get"]),
}
FAMILY_API = {
    "api:famille:household": ("api/famille/foyer/", ["get"]),
    "api:famille:contacts": ("api/famille/foyer/coordonnees/", ["get"]),
    "api:famille:quotient-familial": ("api/famille/foyer/quotient-familial/", []),
    "api:famille:children": ("api/famille/enfants/", ["get"]),
    "api:famille:child": ("api/famille/enfants/{child}/", ["get"]),
    "api:famille:health": ("api/famille/enfants/{child}/sante/", ["get", "put"]),
    "api:famille:entourage": ("api/famille/entourage/", ["get"]),
    "api:famille:entourage-member": ("api/famille/entourage/{member}/", ["get", "delete"]),
    "api:famille:demandes": ("api/famille/demandes/", ["get"]),
    "api:famille:demande": ("api/famille/demandes/{demande}/", ["get"]),
    "api:famille:messages": ("api/famille/demandes/{demande}/messages/", ["post"]),
    "api:famille:cancel": ("api/famille/demandes/{demande}/annuler/", ["post"]),
    "api:famille:attachment": ("api/famille/demandes/{demande}/pieces/{attachment}/", ["get"]),
}
STAFF_PAGES = {
    "demandes:inbox": ("gestion/demandes/", ["get"]),
    "demandes:detail": ("gestion/demandes/{demande}/", ["get"]),
    "demandes:decide": ("gestion/demandes/{demande}/decision/", ["post"]),
    "demandes:assign": ("gestion/demandes/{demande}/attribuer/", ["post"]),
    "demandes:message": ("gestion/demandes/{demande}/message/", ["post"]),
    "demandes:attachment": ("gestion/demandes/{demande}/pieces/{attachment}/", ["get"]),
}
POST_DATA = {"action": "accept", "message": "x", "allergies": "x", "diet": "standard"}
OBJECT_KEYS = ("{child}", "{member}", "{demande}", "{attachment}")


def _with_demande(family, commune, pks=None):
    """A quotient-familial request with a message and a PDF, optionally with forced pks."""
    from demandes.models import Attachment, Demande, DemandeEvent

    pks = pks or {}
    with tenant_context(commune):
        demande = Demande.objects.create(
            pk=pks.get("demande"),
            kind="quotient_familial",
            subject=f"QF {family.household.name}",
            household=family.household,
            submitted_by=family.user,
            service_area="billing",
            payload={"quotient_familial": 1},
        )
        event = DemandeEvent.objects.create(
            pk=pks.get("event"),
            demande=demande,
            actor=family.user,
            to_status="submitted",
            message="attestation",
        )
        attachment = Attachment(
            pk=pks.get("attachment"),
            event=event,
            stored_name="f" * 32 + ".pdf",
            original_name=f"{family.household.name}.pdf",
            content_type="application/pdf",
            size=len(PDF_BYTES),
        )
        attachment.file.save(
            attachment.stored_name, SimpleUploadedFile("x.pdf", PDF_BYTES), save=False
        )
        attachment.save()
    family.demande, family.event, family.attachment = demande, event, attachment
    return family


@pytest.fixture
def world(castres, bondoufle, settings, tmp_path):
    settings.LOGIN_URL = "/connexion/"  # the accounts app owns the real login page
    use_tmp_media(settings, tmp_path)
    alpha = _with_demande(make_family(castres, key="alpha", last_name="Alpha"), castres)
    beta = _with_demande(make_family(castres, key="beta", last_name="Beta"), castres)
    same_ids = {
        "user": alpha.user.pk,
        "household": alpha.household.pk,
        "adult": alpha.adult.pk,
        "children": [c.pk for c in alpha.children],
        "member": alpha.member.pk,
    }
    # Bondoufle's famille Gamma: every primary key equal to famille Alpha's in Castres.
    gamma = _with_demande(
        make_family(bondoufle, key="gamma", last_name="Gamma", pks=same_ids),
        bondoufle,
        pks={
            "demande": alpha.demande.pk,
            "event": alpha.event.pk,
            "attachment": alpha.attachment.pk,
        },
    )
    assert (gamma.user.pk, gamma.children[0].pk, gamma.demande.pk, gamma.attachment.pk) == (
        alpha.user.pk,
        alpha.children[0].pk,
        alpha.demande.pk,
        alpha.attachment.pk,
    )
    staff_castres = make_staff(castres, username="resp-castres", role="manager")
    staff_bondoufle = make_staff(
        bondoufle, username="resp-bondoufle", role="manager", pk=staff_castres.pk
    )
    _CLIENTS.clear()  # sessions are rolled back with each test
    return type(
        "World",
        (),
        {
            "castres": castres,
            "bondoufle": bondoufle,
            "alpha": alpha,
            "beta": beta,
            "gamma": gamma,
            "staff_castres": staff_castres,
            "staff_bondoufle": staff_bondoufle,
        },
    )


def _url(slug, template, owner):
    return f"/{slug}/" + template.format(
        child=owner.children[0].pk,
        member=owner.member.pk,
        demande=owner.demande.pk,
        attachment=owner.attachment.pk,
    )


def _call(client, method, url, api=False):
    if method == "get":
        return client.get(url)
    if method == "delete":
        return client.delete(url)
    if api:
        return getattr(client, method)(url, POST_DATA, format="json")
    return getattr(client, method)(url, POST_DATA)


_CLIENTS: dict = {}


def _client(commune, user, api=False, fresh=False):
    """One signed-in client per (town, account, kind), for speed. `fresh` for a
    client about to visit ANOTHER town: the session cookie is shared by every
    /<slug>/ path, and a town that does not know it deletes it."""
    key = (commune.schema_name, user.pk, user.username, api)
    if fresh or key not in _CLIENTS:
        client = APIClient() if api else Client()
        login(client, commune, user)
        if fresh:
            return client
        _CLIENTS[key] = client
    return _CLIENTS[key]


def _all_cases(table, api):
    for name, (template, methods) in table.items():
        for method in methods:
            yield name, template, method, api


def test_the_matrix_lists_every_url_of_the_families_and_demandes_apps():
    resolver = get_resolver("portal.urls_tenant")
    listed = set(FAMILY_PAGES) | set(FAMILY_API) | set(STAFF_PAGES)

    def names(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLPattern):
                yield prefix + p.name
            else:
                ns = f"{p.namespace}:" if p.namespace else ""
                yield from names(p.url_patterns, prefix + ns)

    wanted = {
        n
        for n in names(resolver.url_patterns, "")
        if n.startswith(("families:", "api:famille:", "demandes:"))
    }
    assert wanted == listed


def test_another_family_of_the_same_town_gets_404_on_every_object(world):
    alpha, beta = world.alpha, world.beta
    for name, template, method, api in [
        *_all_cases(FAMILY_PAGES, False),
        *_all_cases(FAMILY_API, True),
    ]:
        url = _url("castres", template, alpha)
        if any(k in template for k in OBJECT_KEYS):
            owner = (
                _call(_client(world.castres, alpha.user, api), "get", url, api)
                if method == "get"
                else None
            )
            if owner is not None:
                assert owner.status_code == 200, (name, "owner", owner.status_code)
            response = _call(_client(world.castres, beta.user, api), method, url, api)
            assert response.status_code == 404, (name, method, response.status_code)
        else:  # list pages: beta sees only its own family
            response = _call(_client(world.castres, beta.user, api), method, url, api)
            assert response.status_code == 200, (name, response.status_code)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert b"Alpha" not in body, name
    with tenant_context(world.castres):
        from demandes.models import Demande
        from families.models import EntourageMember, HealthSheet

        assert EntourageMember.objects.filter(pk=alpha.member.pk).exists()
        assert Demande.objects.get(pk=alpha.demande.pk).status == "submitted"
        assert HealthSheet.objects.get(child=alpha.children[0]).allergies == "arachide (Alpha)"


def test_a_family_of_another_town_with_colliding_ids_gets_nothing(world):
    alpha, gamma = world.alpha, world.gamma
    for name, template, method, api in [
        *_all_cases(FAMILY_PAGES, False),
        *_all_cases(FAMILY_API, True),
    ]:
        # Gamma's session (Bondoufle) is unknown in Castres' schema: anonymous there.
        response = _call(
            _client(world.bondoufle, gamma.user, api, fresh=True),
            method,
            _url("castres", template, alpha),
            api,
        )
        expected = (403,) if api else (302,)
        assert response.status_code in expected, (name, method, response.status_code)
        if not api:
            assert response["Location"].startswith("/connexion/")
        # The same ids in Bondoufle are Gamma's own rows, never Alpha's.
        if method == "get":
            own = _call(
                _client(world.bondoufle, gamma.user, api),
                "get",
                _url("bondoufle", template, gamma),
                api,
            )
            assert own.status_code == 200, (name, own.status_code)
            body = b"".join(own.streaming_content) if own.streaming else own.content
            assert b"Alpha" not in body, name
            if "{child}" in template:
                assert b"Gamma" in body, name


def test_staff_of_one_town_cannot_reach_another(world):
    alpha, gamma = world.alpha, world.gamma
    for name, (template, methods) in STAFF_PAGES.items():
        for method in methods:
            own = _client(world.castres, world.staff_castres, fresh=True)
            if method == "get":
                assert _call(own, "get", _url("castres", template, alpha)).status_code == 200, name
            # Castres' manager (same user pk as Bondoufle's) on Bondoufle's URLs.
            response = _call(own, method, _url("bondoufle", template, gamma))
            assert response.status_code == 302, (name, response.status_code)
            assert response["Location"].startswith("/connexion/")
    # Staff never reach a family's own space either.
    staff = _client(world.castres, world.staff_castres)
    assert staff.get(_url("castres", FAMILY_PAGES["families:child"][0], alpha)).status_code == 404
    api = _client(world.castres, world.staff_castres, api=True)
    assert api.get(_url("castres", FAMILY_API["api:famille:child"][0], alpha)).status_code == 403
    with tenant_context(world.bondoufle):
        from demandes.models import Demande

        assert Demande.objects.get(pk=gamma.demande.pk).status == "submitted"


def test_families_cannot_use_staff_urls(world):
    client = _client(world.castres, world.alpha.user)
    for name, (template, methods) in STAFF_PAGES.items():
        for method in methods:
            response = _call(client, method, _url("castres", template, world.alpha))
            assert response.status_code == 403, (name, response.status_code)
