"""Logs carry the town; Sentry starts only when SENTRY_DSN is set."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_log_lines_are_json_with_the_town(client, castres, caplog):
    from core.logging import TownFilter

    handler = logging.StreamHandler()
    from pythonjsonlogger.json import JsonFormatter

    records = []
    handler.emit = lambda record: records.append(handler.format(record))
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(town)s %(message)s"))
    handler.addFilter(TownFilter())
    logging.getLogger("django.request").addHandler(handler)
    try:
        client.get("/castres/nulle-part/")
    finally:
        logging.getLogger("django.request").removeHandler(handler)
    line = json.loads(records[-1])
    assert line["town"] == "castres" and line["message"] == "Not Found: /castres/nulle-part/"


@pytest.mark.slow
@pytest.mark.parametrize("dsn,active", [("", False), ("http://public@127.0.0.1:9/1", True)])
def test_sentry_is_initialised_only_with_a_dsn(dsn, active):
    code = (
        "import django; django.setup(); import sentry_sdk; "
        "print(sentry_sdk.get_client().is_active())"
    )
    env = {
        **os.environ,
        "SENTRY_DSN": dsn,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == str(active)
