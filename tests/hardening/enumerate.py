"""What the hardening suites walk through, ENUMERATED rather than listed, so
that pages, forms and API operations added later are covered without editing
these tests: URL patterns from both URLconfs, operations from each town's
OpenAPI schema, forms from every template of the project."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[2]
TOWNS = ("castres", "bondoufle")
UNSAFE_METHODS = ("post", "put", "patch", "delete")

_REGEX_SPECIALS = re.compile(r"[<>()\[\]?*+\\|{}]")


@dataclass(frozen=True)
class Route:
    path: str  # without leading slash, e.g. "mon-espace/"
    name: str  # namespaced view name, or "" when unnamed


def _walk(patterns, prefix: str, namespace: str):
    for p in patterns:
        pattern = str(p.pattern)
        if pattern.startswith("^"):
            pattern = pattern[1:]
        pattern = pattern.removesuffix("$").removesuffix("\\Z")
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace or "") if x)
            yield from _walk(p.url_patterns, prefix + pattern, ns)
        elif isinstance(p, URLPattern):
            name = ":".join(x for x in (namespace, p.name or "") if x) if p.name else ""
            yield Route(prefix + pattern, name)


def routes(urlconf: str) -> list[Route]:
    """Every URL pattern of a URLconf, flattened (duplicates removed)."""
    seen, out = set(), []
    for route in _walk(get_resolver(urlconf).url_patterns, "", ""):
        if route.path not in seen:
            seen.add(route.path)
            out.append(route)
    return out


def argless_routes(urlconf: str) -> list[Route]:
    """The patterns that can be requested as they are (no argument, no regex)."""
    return [r for r in routes(urlconf) if not _REGEX_SPECIALS.search(r.path)]


def schema_operations(schema: dict):
    """(method, path, operation) of every operation of an OpenAPI document."""
    for path, item in sorted(schema.get("paths", {}).items()):
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete", "head", "options"):
                yield method, path, operation


_FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S | re.I)
_METHOD_POST = re.compile(r"""method\s*=\s*["']?post""", re.I)
_ACTION = re.compile(r"""action\s*=\s*["']([^"']*)["']""", re.I)


def template_files() -> list[Path]:
    dirs = [ROOT / "platform", ROOT / "modules", ROOT / "tenants"]
    return sorted(p for d in dirs for p in d.rglob("templates/**/*.html") if ".venv" not in p.parts)


def post_forms(html: str):
    """(attributes, body) of each <form method=post> of a page or template."""
    for m in _FORM.finditer(html):
        if _METHOD_POST.search(m.group("attrs")):
            yield m.group("attrs"), m.group("body")


def posts_off_site(attrs: str) -> bool:
    """A form posting to another site (a payment provider's page) must NOT carry
    our CSRF token: it would hand it to a third party."""
    action = _ACTION.search(attrs)
    return bool(action and re.match(r"(https?:)?//", action.group(1)))
