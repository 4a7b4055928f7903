"""The accessibility statement claims only checks that exist: each keyboard
journey it lists names a browser test that is there, each axe sweep is one
that tests/browser/test_axe_everywhere.py runs (it takes them from the same
list), and the statement page shows them."""

import ast
from pathlib import Path

from content import accessibility

ROOT = Path(__file__).resolve().parents[3]


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
    }


def test_each_keyboard_flow_names_an_existing_browser_test():
    assert accessibility.KEYBOARD_FLOWS
    for _label, node_id in accessibility.KEYBOARD_FLOWS:
        path, name = node_id.split("::")
        assert path.startswith("tests/browser/"), node_id
        assert name in _test_functions(ROOT / path), node_id


def test_the_axe_sweeps_are_those_the_browser_test_runs():
    source = (ROOT / "tests/browser/test_axe_everywhere.py").read_text()
    assert "AXE_SWEEPS" in source  # it parametrises from the statement's list
    sweeps = {who for who, _ in accessibility.AXE_SWEEPS}
    assert sweeps == {"visitor", "family", "agent", "town_admin"}


def test_the_statement_shows_the_sweeps_and_the_keyboard_flows(client, castres):
    body = client.get("/castres/accessibilite/").content.decode()
    assert "Navigation au clavier" in body and "Aller au contenu" in body
    assert "y compris celles propres à un dossier (fiche d&#x27;un enfant" in body
    assert "pour un agent de chaque service" in body
    assert "une page ajoutée est vérifiée sans autre intervention" in body
    assert "payer la facture de ces jours en ligne" in body
    assert "lorsqu&#x27;un parcours testé les produit." in body
    # Pages tied to one record are swept too (tests/browser/test_axe_everywhere.py).
    assert "ne sont contrôlées que lorsqu&#x27;un parcours testé les ouvre" not in body
    assert "Les pages de l&#x27;espace privé des familles n&#x27;ont pas encore toutes" not in body
