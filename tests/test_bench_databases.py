"""Issue #13: nothing falls back to a guessed 127.0.0.1:5432. Every benchmark
takes DATABASE_URL (or its own variable) as given, else the embedded server of
`make run` through bench/benchdb.py."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUESSED = re.compile(r"""(setdefault|get)\(\s*["'][A-Z_]*DATABASE_URL["'],\s*["']postgres""")


def test_no_benchmark_guesses_a_database_server():
    scripts = sorted((ROOT / "bench").glob("*.py"))
    assert scripts
    offenders = [p.name for p in scripts if GUESSED.search(p.read_text())]
    assert offenders == []


def test_benchmarks_that_open_a_database_use_the_shared_choice():
    for name in ("routing.py", "tenant_create.py", "many_towns.py", "billing_run.py"):
        assert "bench_database_url(" in (ROOT / "bench" / name).read_text(), name
