"""Every environment variable the settings read is listed where an operator
looks: docs/operations.md, deploy/env.example and the Helm chart's values.yaml.

The variables are read from the settings' source (every `env(...)`,
`env.bool(...)`, ... call of platform/portal/settings/), not from a list kept
by hand, so a variable added later fails here until it is documented.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "platform" / "portal" / "settings"
WHERE = {
    "docs/operations.md": ROOT / "docs" / "operations.md",
    "deploy/env.example": ROOT / "deploy" / "env.example",
    "helm values.yaml": ROOT / "helm" / "guichet-famille" / "values.yaml",
}
_READERS = re.compile(r"^(env(\.\w+)?|os\.environ\.get|os\.getenv|_required_secret)$")


def settings_variables() -> set[str]:
    names = set()
    for path in SETTINGS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and _READERS.match(ast.unparse(node.func))
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names.add(node.args[0].value)
    return names


def test_the_reader_finds_the_variables_it_must():
    """Control: the AST walk sees plain, typed and required reads."""
    found = settings_variables()
    assert {"SECRET_KEY", "VAULT_MASTER_KEY", "DATABASE_URL", "CONN_MAX_AGE"} <= found
    assert {"VAULT_RETIRED_MASTER_KEYS", "METRICS_TOKEN", "DEBUG"} <= found
    assert len(found) >= 40


@pytest.mark.parametrize("where", sorted(WHERE))
def test_every_variable_the_settings_read_is_listed(where):
    text = WHERE[where].read_text()
    listed = set(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", text))
    missing = sorted(settings_variables() - listed)
    assert not missing, f"{where} ne mentionne pas : {', '.join(missing)}"


def test_the_operations_table_lists_no_variable_that_nothing_reads():
    """The other way round: a variable in the table is read by the settings or
    by a deploy file (gunicorn, the entrypoint, the metrics exporter)."""
    table = WHERE["docs/operations.md"].read_text().split("## Environment variables")[1]
    table = table.split("\n## ")[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", table))
    deploy_text = "".join(
        p.read_text()
        for p in [
            ROOT / "deploy" / "gunicorn.conf.py",
            ROOT / "deploy" / "docker-entrypoint.sh",
            ROOT / "platform" / "core" / "metrics.py",
            ROOT / "manage.py",
            ROOT / "tenants" / "management" / "commands" / "rundemo.py",
        ]
    )
    unknown = sorted(
        n
        for n in documented - settings_variables()
        if n not in deploy_text and not n.startswith("GUICHET_TEST_")  # tests/clock.py
    )
    assert not unknown, f"docs/operations.md décrit des variables lues nulle part : {unknown}"
