"""Locating the external tools the deploy tests run (Debian's prometheus packages)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"


def tool(name: str) -> str:
    """Path of a required binary; fails (never skips) when it is missing."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is required: `make test` installs Debian's prometheus packages")
    return found


def _script(name: str, path: Path) -> ModuleType:
    """A script of deploy/ (not a package), loaded as a module."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rules_module() -> ModuleType:
    """deploy/prometheus/render_rules.py: renders the alert rules."""
    return _script("prometheus_render", DEPLOY / "prometheus" / "render_rules.py")


def dashboards_module() -> ModuleType:
    """deploy/grafana/dashboards.py: the dashboards as code."""
    return _script("dashboards", DEPLOY / "grafana" / "dashboards.py")
