"""Every public surface says what it exports: `__all__` lists each public name the package
offers, and nothing it does not (as httpx tests its own)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import pytest

PUBLIC = [
    "schemas",
    "outcomes.sdk",
    "outcomes.cli",
    "outcomes.report",
    "exporters.prometheus",
    "exporters.otlp",
    "exporters.catalog",
]


@pytest.mark.parametrize("name", PUBLIC)
def test_all_is_complete(name: str) -> None:
    module = importlib.import_module(name)
    lazy = set(getattr(module, "_HOMES", {}))  # loaded on first use (PEP 562)
    offered = lazy | {
        attribute
        for attribute, value in vars(module).items()
        if not attribute.startswith("_")
        and not isinstance(value, types.ModuleType)
        and attribute not in ("annotations", "TYPE_CHECKING")  # typing machinery
    }
    assert set(module.__all__) == offered, name
    for attribute in module.__all__:
        getattr(module, attribute)  # each one is there


def test_schemas_loads_what_is_used() -> None:
    """A program that checks names only does not load pydantic's event models."""
    code = (
        "import sys; from schemas.names import NAME_PATTERN;"
        " print(sorted(m for m in sys.modules if m.startswith(('pydantic', 'schemas.'))))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "['schemas.names']"


def test_every_event_payload_is_exported_by_schemas() -> None:
    import schemas
    import schemas.events

    payloads = {model.__name__ for model in schemas.events.DATA_MODELS.values()}
    assert payloads <= set(schemas.__all__)


def test_the_documented_sdk_import_and_its_deprecated_alias() -> None:
    from outcomes.sdk import Emitter

    with pytest.warns(DeprecationWarning, match=r"import outcomes\.sdk"):
        legacy = importlib.import_module("collector.sdk")
    assert legacy.Emitter is Emitter
