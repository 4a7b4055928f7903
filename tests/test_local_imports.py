"""Function-local imports say why (issue #18, docs/architecture.md "Layers and
their contracts"): an import inside a function hides a dependency, and was how
package cycles used to be hidden. One is kept only where

- Django's app loading requires it (an `apps.py` hook, a module an `apps.py`
  imports before the models exist, the settings), or
- it loads a heavy or optional library only when used (WeasyPrint, openpyxl,
  lxml, Faker, the embedded PostgreSQL...), or
- two modules of one package call each other (a task and the service that
  queues it): the comment names the other module;

and it carries a comment saying so, on its line or just above its block of
imports. Any other import goes at the top of the module, where import-linter
checks it. Tests and migrations are not checked."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("platform", "modules", "tenants")
NOQA = re.compile(r"noqa(:\s*[A-Z]+[0-9]+(,\s*[A-Z]+[0-9]+)*)?", re.IGNORECASE)


def _sources():
    for top in CHECKED:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts:
                continue
            yield path


def _local_imports(tree: ast.AST):
    """Import statements whose nearest scope is a function (or a lambda)."""
    found = []

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            visit(
                child,
                in_function
                or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)),
            )

    visit(tree, False)
    return found


def _says_why(lines: list[str], node: ast.AST, import_lines: set[int]) -> bool:
    """A comment on the import's own line (other than a bare `noqa`), or a comment
    line just above the block of imports it belongs to."""
    own = lines[node.lineno - 1]
    if "#" in own and NOQA.sub("", own.split("#", 1)[1]).strip(" ()"):
        return True
    above = node.lineno - 1  # 1-based line number of the line above
    while above >= 1:
        text = lines[above - 1].strip()
        if text.startswith("#"):
            return True
        if text and above not in import_lines:
            return False
        above -= 1
    return False


def unexplained_local_imports(root: Path = ROOT) -> list[str]:
    out = []
    for path in _sources():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source)
        imports = _local_imports(tree)
        import_lines = {n for node in imports for n in range(node.lineno, node.end_lineno + 1)}
        for node in imports:
            if not _says_why(lines, node, import_lines):
                rel = path.relative_to(root)
                out.append(f"{rel}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return out


def test_every_function_local_import_says_why():
    missing = unexplained_local_imports()
    assert not missing, (
        "Move these imports to the top of their module, or say on the line above why "
        "they must stay inside the function (Django's app loading, a heavy library, "
        "two modules of one package calling each other):\n" + "\n".join(missing)
    )


def test_the_check_catches_an_unexplained_import_and_accepts_a_reason():
    source = (
        "def plain():\n"
        "    from a import b\n"
        "    return b\n"
        "\n"
        "def noqa_only():\n"
        "    from a import b  # noqa: F401\n"
        "\n"
        "def explained():\n"
        "    # Heavy library: loaded only when a PDF is made.\n"
        "    from weasyprint import HTML\n"
        "    from weasyprint.urls import URLFetcher\n"
        "    return HTML, URLFetcher\n"
        "\n"
        "def inline():\n"
        "    import zxingcpp  # compiled library: loaded only when a code is drawn\n"
    )
    lines = source.splitlines()
    tree = ast.parse(source)
    imports = _local_imports(tree)
    import_lines = {n for node in imports for n in range(node.lineno, node.end_lineno + 1)}
    verdicts = [(node.lineno, _says_why(lines, node, import_lines)) for node in imports]
    assert verdicts == [(2, False), (6, False), (10, True), (11, True), (15, True)]


def test_the_layer_contracts_list_no_debt():
    """Package cycles are removed, not listed (decisions/1200): the only
    `ignore_imports` of pyproject.toml's [tool.importlinter] lets a package's
    own tests set a town up through the layers above; production code,
    testing.py helpers and demo loaders have no exception."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[tool.importlinter]", 1)[1]
    ignores = re.findall(r"^ignore_imports = (.+)$", section, re.MULTILINE)
    assert ignores == ['["**.tests.** -> **"]']
    names = re.findall(r'^name = "(.+)"', section, re.MULTILINE)
    assert any("kernel (core) imports no feature package" in n for n in names)
    assert any("Tenants and the back-office are not in a cycle" in n for n in names)
    assert any("no package cycle" in n for n in names)
