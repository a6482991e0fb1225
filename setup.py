"""The build, as pyproject.toml declares it, plus one option: with `OUTCOMES_COMPILE=1` the
collector's per-event modules are compiled to C extensions by mypyc (part of mypy; the same
typed source, so they behave as the Python they come from; the collector's CPU per event
about 0.77× the pure build's side by side: docs/PERFORMANCE.md). `make compiled` builds them
in place in a checkout, and `make run` / `make test` do it first; without the variable every
build is pure Python.
"""

from __future__ import annotations

import os

from setuptools import setup

ENGINE = [
    f"collector/engine/{name}.py"
    for name in (
        "admission", "aggregates", "changes", "engine", "fields", "health", "kinds", "ledger",
        "project", "reviews", "run_counts", "seen", "units", "windows",
    )
]  # fmt: skip
"""The per-event path of `Engine.apply` (bench.ingest)."""
PIPELINE = [
    "collector/pipeline/loop.py", "collector/pipeline/decode.py",
    "collector/pipeline/partitions.py", "collector/source/records.py",
    "collector/source/predecoded.py", "collector/source/client_records.py",
]  # fmt: skip
"""The per-batch loop around it and the records it reads."""
SCHEMAS = ["schemas/fast_path.py", "schemas/binding.py"]
"""Decoding an event's bytes to its model (pydantic-core does the validating)."""

if os.environ.get("OUTCOMES_COMPILE") == "1":
    try:
        from mypyc.build import mypycify
    except ImportError:
        raise SystemExit(
            "OUTCOMES_COMPILE=1 needs mypyc (part of mypy) where the package is built:"
            " pip install mypy 'setuptools>=77', then pip install --no-build-isolation ."
        ) from None

    # one shared library per top-level package, inside it (collector/native__mypyc…so), so
    # an installed or editable package finds it wherever it runs from, and the layering
    # holds: schemas' compiled modules need nothing from collector
    groups = [(ENGINE + PIPELINE, "collector.native"), (SCHEMAS, "schemas.native")]
    setup(ext_modules=mypycify(ENGINE + PIPELINE + SCHEMAS, separate=groups))
else:
    setup()
