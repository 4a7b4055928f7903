"""One truth for a town's configuration (docs/decisions/0006): a guard over the code.

The document (`Commune.config`) is read only through core.town_config; a
section with a derived copy (rows, columns) is read from that copy; the derived
copies are written only by the derivation, in onboarding's transaction. This
test reads the source of platform/, modules/ and tenants/ (tests and
migrations excepted, `testing.py` helpers included) and names every line that
breaks one of those rules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.town_config import DERIVED_SECTIONS

ROOT = Path(__file__).resolve().parents[3]
TREES = ("platform", "modules", "tenants")

# Who may touch the document itself: the selectors, and `tenants` (it owns the
# document: validation, the one write path, versions, export, the console).
DOCUMENT_OWNERS = ("platform/core/town_config.py", "platform/core/towns.py", "tenants/")

# The configuration editors: they read a copy of the whole document
# (`town_config.editable`), change it and hand it to apply_town_config.
EDITORS = (
    "platform/backoffice/views.py",
    "platform/backoffice/config_views.py",
    "platform/backoffice/service_views.py",
    "platform/backoffice/town_views.py",
    "platform/backoffice/identity.py",
    "platform/backoffice/town_forms.py",  # forms over the document (initial_for, apply_to)
    "platform/backoffice/apps.py",  # backoffice_config_pages: summaries of the document
    "modules/billing/config_views.py",
    "modules/billing/apps.py",  # backoffice_config_pages
)

# Hooks that receive a document being validated or applied (the write path).
WRITE_PATH_HOOKS = {"config_problems", "sync_town_rows", "forget_services"}

# Derived rows and who may write them (the derivation) or read them (the selectors).
DERIVED_MODELS = {
    "Service": {"platform/core/town_config.py", "tenants/onboarding.py"},
    "Contact": {"platform/core/town_config.py", "tenants/onboarding.py"},
    "PaymentSettings": {"modules/billing/selectors.py", "modules/billing/apps.py"},
    "Domain": {"tenants/onboarding.py", "tenants/config.py", "platform/portal/routing.py"},
}
# Columns of the town's row derived from the document (tenants.onboarding._apply_identity).
DERIVED_COLUMNS = {
    "config",
    "config_digest",
    "enabled_modules",
    "name",
    "department",
    "department_code",
    "website",
    "contact_label",
    "contact_phone",
    "contact_email",
    "contact_address",
}
WRITE_METHODS = {"create", "bulk_create", "update", "update_or_create", "get_or_create", "delete"}


def _sources():
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            parts = set(path.parts)
            if "tests" in parts or "migrations" in parts or path.name.startswith("test_"):
                continue
            yield rel, ast.parse(path.read_text(), rel)


SOURCES = list(_sources())


def _is(rel: str, prefixes) -> bool:
    return any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in prefixes)


def _functions(tree):
    """node -> name of the function it is in."""
    owner = {}

    def walk(node, name):
        for child in ast.iter_child_nodes(node):
            inner = (
                child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else name
            )
            owner[child] = inner
            walk(child, inner)

    walk(tree, None)
    return owner


def _mentions_config(node) -> bool:
    text = ast.unparse(node).lower()
    return "config" in text or "editable(" in text


def _const(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _document_reads(rel, tree):
    if _is(rel, DOCUMENT_OWNERS):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "config":
            if ast.unparse(node.value) in {"tenants", "views"}:
                continue  # the module tenants.config, the view views.config
            yield node.lineno, f"« {ast.unparse(node)} » : lisez par core.town_config"
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) == "getattr"
            and len(node.args) >= 2
            and _const(node.args[1]) == "config"
        ):
            yield node.lineno, 'getattr(…, "config") : lisez par core.town_config'


def _modules_read_elsewhere(rel, tree):
    """`modules` is read through town_config.enabled_modules()/has_module(); the
    routing keeps its own snapshot of the column (portal.routing)."""
    if _is(rel, DOCUMENT_OWNERS + ("platform/portal/routing.py",)):
        return
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "enabled_modules"
            and ast.unparse(node.value) != "town_config"  # the selector itself
        ):
            yield node.lineno, f"« {ast.unparse(node)} » : town_config.enabled_modules()"
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) == "getattr"
            and len(node.args) >= 2
            and _const(node.args[1]) == "enabled_modules"
        ):
            yield node.lineno, 'getattr(…, "enabled_modules") : town_config.enabled_modules()'


def _derived_sections_from_document(rel, tree):
    if _is(rel, DOCUMENT_OWNERS + EDITORS):
        return
    owner = _functions(tree)
    for node in ast.walk(tree):
        if owner.get(node) in WRITE_PATH_HOOKS:
            continue
        key = receiver = None
        if isinstance(node, ast.Subscript):
            key, receiver = _const(node.slice), node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
        ):
            key, receiver = _const(node.args[0]), node.func.value
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("section"):
            if len(node.args) >= 2 and _const(node.args[1]) in DERIVED_SECTIONS:
                yield node.lineno, f"section(…, « {_const(node.args[1])} ») : copie dérivée"
            continue
        if key in DERIVED_SECTIONS and receiver is not None and _mentions_config(receiver):
            yield node.lineno, f"« {key} » lu dans le document : lisez sa copie dérivée"
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("editable"):
            yield node.lineno, "editable() hors des pages de configuration"


def _lookups_on_derived_sections(rel, tree):
    for node in ast.walk(tree):
        text = _const(node)
        if text and text.startswith("config__"):
            section = text.split("__")[1]
            if section in DERIVED_SECTIONS:
                yield node.lineno, f"« {text} » filtre sur le document une section dérivée"
        if isinstance(node, ast.keyword) and node.arg and node.arg.startswith("config__"):
            if node.arg.split("__")[1] in DERIVED_SECTIONS:
                yield node.lineno, f"« {node.arg} » filtre sur le document une section dérivée"


def _derived_rows(rel, tree):
    owner = _functions(tree)
    for node in ast.walk(tree):
        # Model.objects...: reads go through the selectors, writes through the derivation.
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "objects"
            and isinstance(node.value, ast.Name)
            and node.value.id in DERIVED_MODELS
        ):
            allowed = DERIVED_MODELS[node.value.id]
            if rel not in allowed:
                yield node.lineno, f"{node.value.id}.objects : passez par son sélecteur"
            elif rel == "modules/billing/apps.py" and owner.get(node) != "sync_town_rows":
                yield node.lineno, "PaymentSettings écrit hors de sync_town_rows"
        # A derived row built by hand.
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in DERIVED_MODELS
            and rel not in DERIVED_MODELS[node.func.id]
        ):
            yield node.lineno, f"{node.func.id}(…) construit hors de la dérivation"
        # The town row's derived columns, written elsewhere than onboarding.
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITE_METHODS
            and rel != "tenants/onboarding.py"
            and "commune" in ast.unparse(node.func.value).lower()
        ):
            written = {k.arg for k in node.keywords} & DERIVED_COLUMNS
            if written:
                yield node.lineno, f"colonnes dérivées écrites : {', '.join(sorted(written))}"
        if (
            isinstance(node, ast.Assign)
            and rel != "tenants/onboarding.py"
            and any(
                isinstance(t, ast.Attribute)
                and t.attr in DERIVED_COLUMNS - {"name"}
                and "commune" in ast.unparse(t.value).lower()
                for t in node.targets
            )
        ):
            if rel != "tenants/services.py":  # _refresh: copies the applied row back
                yield node.lineno, "colonne dérivée de la commune écrite hors de l'intégration"


CHECKS = {
    "the document is read only through core.town_config": _document_reads,
    "a derived section is never read from the document": _derived_sections_from_document,
    "the modules are read through town_config.enabled_modules()": _modules_read_elsewhere,
    "no filter on the document for a derived section": _lookups_on_derived_sections,
    "derived rows: read by their selector, written by the derivation": _derived_rows,
}


@pytest.mark.parametrize("rule", CHECKS)
def test_one_configuration_truth(rule):
    found = [
        f"{rel}:{line}: {why}" for rel, tree in SOURCES for line, why in CHECKS[rule](rel, tree)
    ]
    assert not found, f"{rule} (docs/decisions/0006):\n" + "\n".join(found)


def test_the_guard_sees_what_it_forbids():
    """Each rule catches the shape it is about (so an empty result means something)."""
    samples = {
        _document_reads: "x = request.commune.config['identity']",
        _derived_sections_from_document: "m = town_config.get('modules')",
        _lookups_on_derived_sections: "f = {'config__payment__provider': 'payfip_ws'}",
        _modules_read_elsewhere: "on = 'billing' in request.commune.enabled_modules",
        _derived_rows: "Service.objects.filter(code='x').update(name='y')",
    }
    for check, code in samples.items():
        assert list(check("platform/x.py", ast.parse(code))), check.__name__
    assert list(_derived_rows("x.py", ast.parse("Commune.objects.update(enabled_modules=[])")))
    assert list(_derived_sections_from_document("x.py", ast.parse("section(c, 'services')")))


def test_a_derived_section_cannot_be_read_from_the_document():
    from types import SimpleNamespace

    from core import town_config

    town = SimpleNamespace(
        config={"identity": {"primary_color": "#123456"}, "services": [{"code": "x"}]},
        enabled_modules=["billing"],
    )
    assert town_config.section(town, "identity") == {"primary_color": "#123456"}
    assert town_config.section(town, "email_templates", {}) == {}
    assert town_config.has_module(town, "billing") and not town_config.has_module(town, "alsh")
    for name in town_config.DERIVED_SECTIONS:
        with pytest.raises(LookupError, match="copie dérivée"):
            town_config.section(town, name)
    copy = town_config.editable(town)
    copy["services"].append({"code": "y"})
    assert town.config["services"] == [{"code": "x"}]  # editors change a copy
