"""axe-core (WCAG 2 A/AA) on EVERY page an actor may open, with or without URL
arguments, GENERATED from the access declarations next to the views
(`@access(...)`, platform/core/access.py): every GET route of both URLconfs
whose declaration gives the actor "ok" is opened, its arguments filled from a
world of objects (tests/hardening/world.py, the isolation matrix's world): a
child, a demande, an invoice, each booking module's grid, a news item, a
family's file in the back office... A new page cannot escape the check.

The same visit checks the look and feel (issue #15, docs/design-system.md):
one pass per screen size, a phone (360x740) in a town made from Castres'
YAML and a desktop (1280x800) in one made from Bondoufle's. On every page:
nothing wider than the screen (scrollWidth <= innerWidth), every button,
input, select and textarea wears a component class of the design system, and
no English left on the page (Forbidden, Server Error, Please, Choose...).

The world is COMMITTED (the live server reads it from another connection) in
a throwaway town, Castres' YAML under another slug, dropped afterwards with
its schema: nothing is left in the session towns.

Who signs in comes from the accessibility statement's list
(content.accessibility.AXE_SWEEPS): the statement says what is run here. One
browser context per actor (one per service area for agents), pages reused."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from content.accessibility import AXE_SWEEPS
from families.testing import login
from tests.hardening.world import (
    ENTRIES,
    area_of,
    build_household,
    build_staff,
    gets,
    town_constants,
    url_for,
)

SLUG = "axe-monde"
SHOTS = (
    Path(__file__).resolve().parents[2] / "test-artifacts" / "sweep"
    if os.environ.get("SWEEP_SHOTS")
    else None
)
# One pass per screen size, each in its own town (two towns' configurations).
SCREENS = {
    "telephone": ({"width": 360, "height": 740}, "castres"),
    "ordinateur": ({"width": 1280, "height": 800}, "bondoufle"),
}
# fc-button: FranceConnect's own button (its design is required; styled in ui.css).
COMPONENTS = ("btn", "input", "select", "textarea", "checkbox", "radio", "file", "fc-button")
# Words that only an untranslated page shows (Django's, a library's, ours).
ENGLISH = (
    "Forbidden",
    "Server Error",
    "Not Found",
    "Please",
    "Choose",
    "Submit",
    "This field",
    "Enter a valid",
    "Select a valid",
    "Currently",
    "Page not found",
    "Bad Request",
)
LOOK = """([components, english]) => {
  const root = document.documentElement;
  const unstyled = [...document.querySelectorAll(
      "button, input:not([type=hidden]), select, textarea")]
    .filter((el) => !components.some((c) => el.classList.contains(c)))
    .map((el) => el.outerHTML.slice(0, 90));
  const text = document.body ? document.body.innerText : "";
  const words = english.filter((w) => new RegExp("\\b" + w + "\\b").test(text));
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 3).map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""));
  return {width: root.scrollWidth, viewport: window.innerWidth, unstyled, words, wide};
}"""
# Files by their name (other downloads and non-HTML answers are recognised when
# opened), and sign-out (it would end the sweep's session). The API is left out.
SKIP_SUFFIXES = (".pdf", ".zip", ".csv", ".xlsx", ".ics", ".json", ".txt", ".xml", ".yaml")
SKIP_PARTS = ("deconnexion", "logout")
# The statement's sweeps -> the matrix's actors.
ACTOR = {"visitor": "anonymous", "family": "family_a", "agent": "agent", "town_admin": "town_admin"}


REPLACE = {
    "castres": (
        ("slug: castres", f"slug: {SLUG}"),
        ("aliases: [ville-castres]", "aliases: []"),
        ('insee_code: "81065"', 'insee_code: "99998"'),
    ),
    "bondoufle": (
        ("slug: bondoufle", f"slug: {SLUG}"),
        ('insee_code: "91086"', 'insee_code: "99998"'),
    ),
}


@pytest.fixture
def world(live_town, settings, tmp_path, request):
    """A throwaway town (from the screen's town YAML) with one household owning
    every kind of object a URL can name, its staff and its content; all
    committed, then dropped."""
    from families.testing import use_tmp_media
    from tenants.models import Commune
    from tenants.onboarding import onboard_yaml_text

    use_tmp_media(settings, tmp_path)
    _drop(SLUG)  # left over by an interrupted run
    model = SCREENS[request.node.callspec.params["screen"]][1]
    text = (settings.TENANT_CONFIGS_DIR / f"{model}.yaml").read_text()
    for old, new in REPLACE[model]:
        assert old in text, old
        text = text.replace(old, new)
    town = onboard_yaml_text(text, source=f"{SLUG}.yaml").commune
    try:
        values = {
            **town_constants(town),
            **build_household(town, key="alpha", last_name="Alpha", vault_id=1),
        }
        staff = build_staff(town, "axe")
        connection.set_schema_to_public()
        yield {
            "town": town,
            "values": values,
            "users": {"family_a": values["user"], **staff},
            "platform": {"commune": Commune.objects.get(slug="castres")},
        }
    finally:
        _drop(SLUG)


def _drop(slug):
    from portal.routing import towns
    from tenants.config import schema_name_for
    from tenants.models import Commune

    connection.set_schema_to_public()
    Commune.objects.filter(slug=slug).delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name_for(slug)}" CASCADE')
    towns.clear()


def _skipped(url):
    path = url.split("?")[0]
    return path.endswith(SKIP_SUFFIXES) or any(p in path for p in SKIP_PARTS)


def _pages(world, actor):
    """(user key, URL, has arguments) of every GET page the declarations open
    to `actor`; the agent is the one of the view's service area."""
    out = []
    for entry in ENTRIES:
        declared = entry.declared
        if declared is None or entry.api or not gets(entry):
            continue
        if entry.site == "platform" and actor != "anonymous":
            continue
        if declared.outcome(actor) != "ok":
            continue
        if entry.site == "platform":
            url = url_for(world["platform"], entry, "")
        else:
            url = url_for(world["values"], entry, SLUG)
        if _skipped(url):
            continue
        who = actor
        if actor == "agent":
            who = f"agent_{area_of(entry) or 'alsh'}"
        out.append((who, url, "<" in entry.path or "(?P" in entry.path))
    return out


class Sweep:
    """One browser context per signed-in user, opened on first use."""

    def __init__(self, browser, base_url, world, axe, viewport):
        self.browser, self.base_url, self.world, self.axe = browser, base_url, world, axe
        self.viewport = viewport
        self.pages, self.contexts = {}, []
        self.checked, self.problems, self.not_pages = [], [], []

    def page(self, who):
        if who not in self.pages:
            context = self.browser.new_context(
                locale="fr-FR", timezone_id="Europe/Paris", viewport=self.viewport
            )
            context.set_default_timeout(15_000)
            self.contexts.append(context)
            if who != "anonymous":
                client = Client()
                login(client, self.world["town"], self.world["users"][who])
                connection.set_schema_to_public()
                cookie = client.cookies["sessionid"].value
                context.add_cookies(
                    [{"name": "sessionid", "value": cookie, "url": f"{self.base_url}/{SLUG}/"}]
                )
            self.pages[who] = context.new_page()
        return self.pages[who]

    def check(self, who, url):
        page = self.page(who)
        try:
            response = page.goto(f"{self.base_url}{url}")
        except Exception:  # noqa: BLE001 - a download, not a page
            self.not_pages.append(f"{url} ({who}): téléchargement")
            return
        kind = response.headers.get("content-type", "") if response else ""
        if response is None or response.status >= 400 or "text/html" not in kind:
            status = response.status if response else None
            if status and status >= 500:
                self.problems.append(f"{url} ({who}): erreur {status}")
            self.not_pages.append(f"{url} ({who}): {status} {kind}")
            return
        self.checked.append(url)
        # An htmx fragment (no <html>): checked without the whole-document rules.
        fragment = "<html" not in response.text()[:500].lower()
        found = self.axe(page, fragment=fragment)
        if found:
            self.problems.append(f"{url} ({who}): {self.axe.format(found)}")
        look = page.evaluate(LOOK, [list(COMPONENTS), list(ENGLISH)])
        if look["width"] > look["viewport"] and not fragment:
            self.problems.append(
                f"{url} ({who}): {look['width']} px de large pour un écran de "
                f"{look['viewport']} px (dépassent : {', '.join(look['wide'])})"
            )
        # The operator console is Django's admin, with its own styled controls.
        if look["unstyled"] and not url.startswith("/admin/"):
            self.problems.append(f"{url} ({who}): contrôles sans composant : {look['unstyled']}")
        if look["words"]:
            self.problems.append(f"{url} ({who}): mots anglais : {look['words']}")
        if SHOTS:  # SWEEP_SHOTS=1: every page's picture, to look at (git-ignored)
            name = re.sub(r"[^\w-]+", "_", f"{who}{url}").strip("_")[:120]
            page.screenshot(path=str(SHOTS / f"{self.viewport['width']}" / f"{name}.png"))

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("who", [who for who, _ in AXE_SWEEPS])
def test_every_page_the_declarations_open(browser, live_town, world, axe, who, screen):
    actor = ACTOR[who]
    pages = _pages(world, actor)
    sweep = Sweep(browser, live_town.url, world, axe, SCREENS[screen][0])
    try:
        for user, url, _ in pages:
            sweep.check(user, url)
    finally:
        sweep.close()
    assert not sweep.problems, f"{len(sweep.problems)} page(s) :\n" + "\n".join(sweep.problems)
    with_arguments = {url for _, url, args in pages if args} & set(sweep.checked)
    checked = len(sweep.checked)
    print(f"{who} ({screen}): {checked} pages checked ({len(with_arguments)} with arguments)")
    print("not pages:", *sweep.not_pages, sep="\n  ")
    assert len(sweep.checked) >= 10, sweep.checked  # the sweep really opened pages
    if actor != "anonymous":
        assert len(with_arguments) >= 5, sweep.checked
