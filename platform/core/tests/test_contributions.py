"""Contribution points (core.contributions): the platform's pages list what the
installed apps declare, a switched-off module contributes nothing, staff see
only their areas' entries."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.template import Context, Template
from django.test import Client, RequestFactory

from core import contributions
from core.contributions import Counter, DashboardCard, NavEntry
from families.testing import login, make_family, make_staff

ALL = ["periscolaire", "alsh", "petite_enfance", "billing"]


def _request(enabled=ALL, user=None, config=None, path="/"):
    request = RequestFactory().get(path)
    request.commune = SimpleNamespace(
        enabled_modules=list(enabled), config=config or {"modules": list(enabled)}
    )
    request.user = user or SimpleNamespace(is_town_staff=False, role="family")
    request.resolver_match = None
    return request


def _staff(role="agent", areas=()):
    return SimpleNamespace(
        is_town_staff=True,
        role=role,
        works_in=lambda area: role in ("manager", "town_admin") or area in areas,
    )


def _urls(entries):
    return {e.url_name for e in entries}


# --- module gating ------------------------------------------------------------------------


def test_a_town_with_billing_off_gets_none_of_its_entries():
    without = [m for m in ALL if m != "billing"]
    admin = _staff("town_admin")
    on, off = _request(ALL, admin), _request(without, admin)

    assert "billing:home" in _urls(contributions.family_nav(on))
    assert "billing:home" not in _urls(contributions.family_nav(off))
    assert "billing/_dashboard_card.html" in {
        c.template for c in contributions.family_dashboard_cards(on, None)
    }
    assert not [
        c
        for c in contributions.family_dashboard_cards(off, None)
        if c.template.startswith("billing")
    ]
    assert {"billing:staff-overview", "billing:staff"} <= _urls(contributions.staff_nav(on))
    assert not {"billing:staff-overview", "billing:staff"} & _urls(contributions.staff_nav(off))
    assert {"billing:config-tariffs", "billing:config-payment"} <= _urls(
        contributions.backoffice_config_pages(on)
    )
    assert not {"billing:config-tariffs", "billing:config-payment"} & _urls(
        contributions.backoffice_config_pages(off)
    )


def test_platform_apps_contribute_whatever_the_modules():
    request = _request([], _staff("town_admin"))
    assert {"demandes:inbox", "backoffice:families", "backoffice:config"} <= _urls(
        contributions.staff_nav(request)
    )
    assert "families:dashboard" in _urls(contributions.family_nav(request))


def test_contributors_skip_switched_off_modules_only():
    request = _request(["alsh"])
    owners = {m.__self__.label for m in contributions.contributors(request, "staff_nav")}
    assert {"backoffice", "demandes"} <= owners
    assert "billing" not in owners


# --- staff filtering ----------------------------------------------------------------------


def test_staff_entries_follow_the_users_areas_and_roles():
    agent = _request(ALL, _staff("agent", areas=("alsh",)))
    billing_agent = _request(ALL, _staff("agent", areas=("billing",)))
    admin = _request(ALL, _staff("town_admin"))

    assert "billing:staff-overview" not in _urls(contributions.staff_nav(agent))
    assert "billing:staff-overview" in _urls(contributions.staff_nav(billing_agent))
    assert "backoffice:config" not in _urls(contributions.staff_nav(billing_agent))
    assert "backoffice:config" in _urls(contributions.staff_nav(admin))
    assert contributions.backoffice_config_pages(agent) == []


def test_families_get_no_staff_entries():
    family = _request(ALL)
    assert contributions.staff_nav(family) == []
    assert contributions.staff_counters(family) == []
    assert contributions.backoffice_config_pages(family) == []


def test_staff_may_see():
    assert not contributions.staff_may_see(None, None)
    assert contributions.staff_may_see(_staff(), None)
    assert not contributions.staff_may_see(_staff(), "billing")
    assert contributions.staff_may_see(_staff(areas=("billing",)), "billing")
    assert not contributions.staff_may_see(_staff("manager"), None, ("town_admin",))


# --- ordering, URLs, current page ---------------------------------------------------------


class _Fake:
    """Hooks of a made-up app (attached to a real AppConfig for one test)."""

    def __init__(self, entries=(), counters=(), cards=()):
        self.entries, self.counters, self.cards = list(entries), list(counters), list(cards)

    def staff_nav(self, request):
        return self.entries

    def staff_counters(self, request):
        return self.counters

    def staff_home_cards(self, request):
        return self.cards


@pytest.fixture
def fake_hooks():
    """Attach hooks to the `audit` app config (it has none) for one test."""
    config = apps.get_app_config("audit")
    added = []

    def attach(fake):
        for name in ("staff_nav", "staff_counters", "staff_home_cards"):
            setattr(config, name, getattr(fake, name))
            added.append(name)

    yield attach
    for name in added:
        delattr(config, name)


@pytest.mark.django_db
def test_entries_are_merged_in_order_and_unresolvable_urls_dropped(fake_hooks, castres, in_town):
    fake_hooks(
        _Fake(
            entries=[
                NavEntry("Premier", "backoffice:exports", order=-5),
                NavEntry("Introuvable", "nulle-part:rien", order=-4),
            ],
            counters=[
                Counter("À valider", 3, "/x/", order=2),
                Counter("Caché", 1, "/y/", area="billing", order=1),
            ],
            cards=[DashboardCard("x.html", order=1, area="billing")],
        )
    )
    agent = make_staff(castres, username="ana", areas=("alsh",))
    request = _request(ALL, agent)
    with in_town(castres):
        nav = contributions.staff_nav(request)
        counters = [c.label for c in contributions.staff_counters(request)]
        cards = contributions.staff_home_cards(request)
    assert nav[0].label == "Premier" and nav[0].url.endswith("/gestion/exports/")
    assert "nulle-part:rien" not in _urls(nav)
    assert "À valider" in counters and "Caché" not in counters
    assert "x.html" not in {c.template for c in cards}


def test_current_entry_follows_match(fake_hooks):
    fake_hooks(_Fake(entries=[NavEntry("Demandes", "demandes:inbox", match="demandes:*")]))
    request = _request(ALL, _staff("town_admin"))
    request.resolver_match = SimpleNamespace(view_name="demandes:demande", namespace="demandes")
    current = [e.label for e in contributions.staff_nav(request) if e.current]
    assert current == ["Demandes"]


def test_grouped_keeps_first_seen_order():
    a, b, c = NavEntry("a", "x"), NavEntry("b", "y", group="Administration"), NavEntry("c", "z")
    assert contributions.grouped([a, b, c]) == {"Travail": [a, c], "Administration": [b]}


def test_render_card_sees_page_context_and_its_own(tmp_path, settings):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [str(tmp_path), *settings.TEMPLATES[0].get("DIRS", [])]}
    ]
    (tmp_path / "card.html").write_text("{{ who }}:{{ n }}:{{ card.order }}")
    card = DashboardCard("card.html", order=7, context={"n": 3})
    out = Template("{% load contributions %}{% render_card card %}").render(
        Context({"card": card, "who": "Claire"})
    )
    assert out == "Claire:3:7"


# --- the pages ----------------------------------------------------------------------------


def _switch_off(admin_client, commune, code):
    """As the town admin does it: the back-office's modules page (decisions/0006);
    billing goes after its online payment (« Aucun »: it needs the module)."""
    if code == "billing":
        payment = "/castres/billing/gestion/configuration/paiement/"
        response = admin_client.post(payment, {"provider": "none", "save": "1"})
        assert response.status_code == 302
    modules = [m for m in commune.enabled_modules if m != code]
    response = admin_client.post("/castres/gestion/configuration/modules/", {"modules": modules})
    assert response.status_code == 302


@pytest.mark.django_db
def test_pages_of_a_town_without_billing_show_no_billing_entry(castres):
    household = make_family(castres, key="lila", last_name="Lila")
    admin = make_staff(castres, username="chef", role="town_admin")
    family_client, staff_client = Client(), Client()
    login(family_client, castres, household.user)
    login(staff_client, castres, admin)

    def pages():
        return (
            family_client.get("/castres/mon-espace/").content.decode(),
            staff_client.get("/castres/gestion/").content.decode(),
            staff_client.get("/castres/gestion/configuration/").content.decode(),
        )

    dashboard, home, config = pages()
    assert "/castres/billing/" in dashboard and "Mes factures" in dashboard
    assert "/castres/billing/gestion/apercu/" in home
    assert "/castres/billing/gestion/configuration/tarifs/" in config

    _switch_off(staff_client, castres, "billing")
    dashboard, home, config = pages()
    assert "/castres/billing/" not in dashboard and "Mes factures" not in dashboard
    assert "Consulter et suivre mes demandes" in dashboard  # the platform's own cards stay
    assert "/castres/billing/gestion/apercu/" not in home and "Impayés" not in home
    assert "/castres/gestion/familles/" in home
    assert "/castres/billing/gestion/configuration/tarifs/" not in config
    assert "/castres/gestion/configuration/contacts/" in config
