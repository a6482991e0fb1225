from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporters.prometheus import SnapshotCollector
from tests.support.snapshots import sample_snapshot

GOLDEN = Path(__file__).parent / "golden" / "metrics.txt"


def exposition() -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(sample_snapshot))
    return generate_latest(registry).decode()


def test_golden_exposition() -> None:
    """Regenerate with `python -m tests.unit.exporters.test_families` after a reviewed change."""
    assert exposition() == GOLDEN.read_text()


def test_undefined_values_are_absent() -> None:
    samples = {
        (s.name, s.labels.get("project"))
        for family in text_string_to_metric_families(exposition())
        for s in family.samples
    }
    for name in ("roi_ratio", "uptime_ratio", "success_ratio", "intervention_ratio"):
        assert (f"outcomes_period_{name}", "ticket-triage") in samples
        assert (f"outcomes_period_{name}", "idle-bot") not in samples
    assert ("outcomes_project_last_event_timestamp_seconds", "idle-bot") not in samples
    assert "NaN" not in exposition()


def test_no_snapshot_yet_exports_nothing() -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(lambda: None))
    assert generate_latest(registry) == b""


def test_promtool_finds_nothing_to_lint() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is required: install Debian's prometheus package (make test does)")
    result = subprocess.run(
        [promtool, "check", "metrics"], input=exposition(), capture_output=True, text=True
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


if __name__ == "__main__":
    GOLDEN.write_text(exposition())
