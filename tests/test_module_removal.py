"""The registry is the only door (issue #18): billing, and separately petite
enfance, can be removed from INSTALLED_APPS. Each case is a process of its own
(Django's app registry is fixed once loaded) with tests/module_removal/settings.py
on its own test database: Django's checks pass, no migration is missing, and
the page smoke set (tests/module_removal/test_smoke_pages.py) is green, with no
entry of the missing module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(module: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "GUICHET_WITHOUT_MODULE": module,
        "DJANGO_SETTINGS_MODULE": "tests.module_removal.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


@pytest.mark.parametrize("module", ["modules.billing", "modules.petite_enfance"])
def test_platform_runs_without_module(module):
    check = _run(module, "manage.py", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    smoke = _run(
        module,
        "-m",
        "pytest",
        "tests/module_removal/test_smoke_pages.py",
        "--ds=tests.module_removal.settings",
        "--create-db",
        "-p",
        "no:randomly",
        "-q",
    )
    assert smoke.returncode == 0, smoke.stdout[-4000:] + smoke.stderr[-2000:]
    assert " passed" in smoke.stdout
