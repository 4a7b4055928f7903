#!/usr/bin/env python
"""Django's command-line utility for Guichet Famille."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# platform/ is a source root (no __init__.py): put it AFTER the repo root so the
# standard library module `platform` is never shadowed (docs/decisions/0001).
for p in (str(ROOT), str(ROOT / "platform")):
    if p not in sys.path:
        sys.path.append(p) if p.endswith("platform") else sys.path.insert(0, p)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
    if sys.argv[1:2] == ["rundemo"]:
        # The demo shows the product's own error pages, never Django's debug page
        # (static files through WhiteNoise); DEBUG=true make run turns it back on.
        os.environ.setdefault("DEBUG", "false")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
