"""The build, as pyproject.toml declares it, plus one option: with `OUTCOMES_COMPILE=1` the
engine's per-event modules are compiled to C extensions by mypyc (part of mypy; the same
typed source, so they behave as the Python they come from, at ≈ 0.77× the collector's CPU
per event: docs/PERFORMANCE.md). `make compiled` builds them in place in a checkout;
without the variable every build is pure Python, as before.
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
"""The per-event path of `Engine.apply` (bench.ingest); other modules gain too little."""

if os.environ.get("OUTCOMES_COMPILE") == "1":
    from mypyc.build import mypycify

    # one shared library, inside the package (collector/engine/native__mypyc…so), so an
    # installed or editable package finds it wherever it runs from
    setup(ext_modules=mypycify(COMPILED, group_name="collector.engine.native"))
else:
    setup()
