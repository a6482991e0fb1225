"""The direct renderer against prometheus_client's own encoders, byte for byte."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from exporters.prometheus import Renderer, SnapshotCollector
from schemas.snapshot import ProjectInfo, Snapshot
from tests.support.snapshots import sample_snapshot


def reference(snapshot: Snapshot | None, openmetrics: bool) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(lambda: snapshot))
    if openmetrics:
        body: bytes = generate_openmetrics(registry)  # type: ignore[no-untyped-call]
        return body
    return generate_latest(registry)


def hostile() -> Snapshot:
    """Label values a declaration may legally contain: quotes, backslashes, newlines."""
    snapshot = sample_snapshot()
    triage = snapshot.projects[1]
    info = ProjectInfo(True, 'ops "core"', "a\\b", "line\nbreak", "pilot", None, 5.0)
    health = replace(
        snapshot.health,
        declaration_files=(('dir/with "quote".yaml', True),),
        otlp_exports=(("failure", 2), ("success", 7)),
    )
    return replace(snapshot, projects=(replace(triage, info=info),), health=health)


@pytest.mark.parametrize("openmetrics", [False, True], ids=["text", "openmetrics"])
@pytest.mark.parametrize("build", [sample_snapshot, hostile, lambda: None])
def test_identical_to_prometheus_client(openmetrics: bool, build: object) -> None:
    snapshot = build()  # type: ignore[operator]
    assert Renderer().render(snapshot, openmetrics) == reference(snapshot, openmetrics)


def test_openmetrics_parses_with_the_strict_parser() -> None:
    body = Renderer().render(hostile(), openmetrics=True).decode()
    parsed = text_string_to_metric_families(body)  # type: ignore[no-untyped-call]
    families = {family.name: family for family in parsed}
    (info,) = families["outcomes_project_info"].samples
    assert info.labels["team"] == 'ops "core"'
    assert info.labels["sponsor"] == "line\nbreak"
    assert families["outcomes_runs"].type == "counter"


def test_cached_projects_follow_every_change() -> None:
    """A scrape after a change equals a fresh render; unchanged projects come from cache."""
    renderer = Renderer()
    first = sample_snapshot()
    renderer.render(first)
    idle, triage = first.projects
    changed_triage = replace(triage, lifetime_value=401.0, status="met")
    second = replace(first, projects=(idle, changed_triage), currency="EUR")
    assert renderer.render(second) == Renderer().render(second)
    third = replace(second, projects=(changed_triage,))
    assert renderer.render(third) == Renderer().render(third)
    assert b'project="idle-bot"' not in renderer.render(third)
