"""The direct renderer against prometheus_client's own encoders, byte for byte."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from exporters.prometheus import MetricsServer, Renderer, SnapshotCollector
from exporters.prometheus.families import families
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


@pytest.mark.parametrize("openmetrics", [False, True], ids=["text", "openmetrics"])
@pytest.mark.parametrize(
    "names",
    [
        ["outcomes_collector_events_total"],
        ["outcomes_collector_event_delay_seconds_count", "outcomes_portfolio_projects"],
        ["outcomes_runs_total", "outcomes_collector_build_info"],
        ["outcomes_collector_event_delay_seconds"],  # a histogram's samples have suffixes
        ["no_such_metric"],
        [],
    ],
)
def test_selected_samples_as_prometheus_client_restricts_them(
    openmetrics: bool, names: list[str]
) -> None:
    snapshot = hostile()

    class Restricted(Collector):
        """prometheus_client's own restriction (`RestrictedRegistry` applies it to the
        collectors it finds by name; this collector describes no names)."""

        def collect(self) -> Iterator[Metric]:
            for family in families(snapshot):
                kept = family._restricted_metric(set(names))  # type: ignore[no-untyped-call]
                if kept is not None:
                    yield kept

    restricted = CollectorRegistry(auto_describe=False)
    restricted.register(Restricted())
    expected = generate_openmetrics(restricted) if openmetrics else generate_latest(restricted)  # type: ignore[no-untyped-call]
    renderer = Renderer()
    assert renderer.render(snapshot, openmetrics, names) == expected
    assert renderer.render(snapshot, openmetrics) == reference(snapshot, openmetrics)


def test_the_server_serves_the_samples_a_scrape_names() -> None:
    snapshot = sample_snapshot()
    server = MetricsServer(lambda: snapshot, "127.0.0.1", 0, readiness=list)
    server.start()
    base = f"http://127.0.0.1:{server.port}/metrics"
    try:
        with urllib.request.urlopen(f"{base}?name[]=outcomes_collector_events_total") as reply:
            selected = reply.read()
        with urllib.request.urlopen(base) as reply:
            whole = reply.read()
    finally:
        server.shutdown()
    assert selected == Renderer().render(snapshot, names=["outcomes_collector_events_total"])
    assert whole == reference(snapshot, openmetrics=False)
    assert b"outcomes_collector_events_total{" in selected
    assert b"outcomes_runs_total" not in selected
