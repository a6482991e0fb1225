"""The build, as pyproject.toml declares it, plus one option: with `OUTCOMES_COMPILE=1` the
engine's per-event modules are compiled to C extensions by mypyc (part of mypy; the same
typed source, so they behave as the Python they come from; the collector's CPU per event
0.74× the pure build's side by side: docs/PERFORMANCE.md). `make compiled` builds them in
place in a checkout; without the variable every build is pure Python.
"""

from __future__ import annotations

import os

from setuptools import setup

COMPILED = [
    f"collector/engine/{name}.py"
    for name in (
        "admission", "aggregates", "changes", "engine", "health", "kinds", "ledger",
        "project", "reviews", "run_counts", "seen", "units", "windows",
    )
]  # fmt: skip
"""The per-event path of `Engine.apply` (bench.ingest), the modules measured and tested
compiled so far; the pipeline loop and the decoding glue may follow (docs/PERFORMANCE.md)."""

if os.environ.get("OUTCOMES_COMPILE") == "1":
    try:
        from mypyc.build import mypycify
    except ImportError:
        raise SystemExit(
            "OUTCOMES_COMPILE=1 needs mypyc (part of mypy) where the package is built:"
            " pip install mypy 'setuptools>=77', then pip install --no-build-isolation ."
        ) from None

    # one shared library, inside the package (collector/engine/native__mypyc…so), so an
    # installed or editable package finds it wherever it runs from
    setup(ext_modules=mypycify(COMPILED, group_name="collector.engine.native"))
else:
    setup()
