"""Guards for the source layout: platform/ is a source root, never a package."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_platform_has_no_init_file():
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_stdlib_platform_is_not_shadowed_under_pytest():
    import platform

    assert platform.system()
    assert Path(platform.__file__).parent != ROOT / "platform"


@pytest.mark.slow
def test_stdlib_platform_works_under_manage_py():
    code = "import platform, uuid; print(platform.system(), uuid.uuid4().version)"
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1].split() == [__import__("platform").system(), "4"]


@pytest.mark.slow
def test_stdlib_platform_works_for_the_installed_package(tmp_path):
    """Outside the repo (as the installed package runs), Django and sentry import fine."""
    code = (
        "import os, platform, django; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings.test';"
        "import sentry_sdk; django.setup(); import portal.routing;"
        "print(platform.system())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == __import__("platform").system()


def test_a_mistyped_actor_in_an_access_declaration_is_refused():
    from core.access import STAFF, access

    with pytest.raises(ValueError, match="acteur inconnu"):
        access(STAFF(), agent_other="not_found")
