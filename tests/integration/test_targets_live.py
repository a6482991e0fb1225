"""Declarations in a running collector: target metrics, hot reload, report == /metrics."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from collector.app import CollectorApp
from tests.support.brokers import Broker
from tests.support.generate import random_document, to_record
from tests.support.live import (
    Series,
    counted,
    http_get,
    parse_series,
    produce,
    scrape,
    total,
    value,
    wait_until,
)

DECLARATIONS = """\
apiVersion: outcomes/v1
kind: Project
metadata: {name: ticket-triage, labels: {team: itsm}}
spec:
  owner: itsm-sre
  sponsor: vp-infrastructure
  stage: production
  stageSince: 2026-03-01
  hourlyRate: 85
  budget: 120000
  services: [api]
  objectives: {uptime: 0.99, savings: SAVINGS, timeSavedHours: 40, roi: 0.5, successRate: 0.6}
  guards: {minRuns: 5, minObservedHours: 0.5, minElapsed: 0}
---
apiVersion: outcomes/v1
kind: Project
metadata: {name: never-seen, labels: {team: platform}}
spec: {owner: platform-eng, objectives: {savings: 100}, guards: {minElapsed: 0}}
"""


def declare(directory: Path, savings: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "projects.yaml").write_text(DECLARATIONS.replace("SAVINGS", savings))


def objective(url: str) -> float | None:
    status, text = http_get(url)
    if status != 200:
        return None
    return value(
        parse_series(text), "outcomes_target_objective", project="ticket-triage", target="savings"
    )


def test_targets_hot_reload_and_report_match_metrics(
    broker: Broker, topic: str, tmp_path: Path, start_collector: Callable[..., CollectorApp]
) -> None:
    projects = tmp_path / "projects"
    declare(projects, "5000")
    app = start_collector(targets=projects, targets_poll_s=0.2)
    rng = random.Random(4)
    records = [to_record(random_document(rng, i), rng) for i in range(300)]
    sent = produce(broker.bootstrap_servers, topic, records)
    wait_until(counted(app.metrics_url, sent))
    series = scrape(app.metrics_url)

    assert value(series, "outcomes_project_info", project="ticket-triage", team="itsm", owner="itsm-sre",
                 sponsor="vp-infrastructure", stage="production") == 1  # fmt: skip
    assert (
        value(series, "outcomes_project_budget", project="ticket-triage", currency="USD") == 120000
    )
    assert (
        value(series, "outcomes_project_stage_since_timestamp_seconds", project="ticket-triage")
        == 1772323200
    )
    for target in ("uptime", "savings", "time_saved", "roi", "success_rate"):
        states = [value(series, "outcomes_target_status", project="ticket-triage", target=target, status=s)
                  for s in ("met", "at_risk", "off_target", "insufficient_data")]  # fmt: skip
        assert sorted(s or 0.0 for s in states) == [0, 0, 0, 1], target
    assert (
        value(series, "outcomes_target_objective", project="ticket-triage", target="time_saved")
        == 40 * 3600
    )
    assert value(series, "outcomes_project_status", project="never-seen", status="off_target") == 1
    assert value(series, "outcomes_project_status", project="disk-cleanup", status="unscoped") == 1
    assert total(series, "outcomes_portfolio_projects") == 6
    assert_report_matches(app.settings.state, projects, series)

    # a broken edit is refused, the last good declaration stays in force
    (projects / "projects.yaml").write_text(DECLARATIONS.replace("SAVINGS", "plenty"))
    wait_until(lambda: value(scrape(app.metrics_url), "outcomes_collector_declaration_file_valid",
                             file=str(projects / "projects.yaml")) == 0)  # fmt: skip
    assert objective(app.metrics_url) == 5000
    # a corrected one is picked up without a restart
    declare(projects, "7000")
    wait_until(lambda: objective(app.metrics_url) == 7000)
    assert (
        value(
            scrape(app.metrics_url),
            "outcomes_collector_declaration_reloads_total",
            result="failure",
        )
        == 1
    )


def assert_report_matches(state: str, projects: Path, series: Series) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "outcomes", "report", "--state", state, "--targets", str(projects), "--format", "json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["projects"]
    assert {row["project"] for row in rows} == {
        dict(labels)["project"] for name, labels in series if name == "outcomes_project_info"
    }
    for row in rows:
        project = row["project"]
        assert row["status"] == next(
            dict(labels)["status"] for (name, labels), v in series.items()
            if name == "outcomes_project_status" and dict(labels)["project"] == project and v == 1
        )  # fmt: skip
        for field, metric in (
            ("time_saved_s", "outcomes_period_time_saved_seconds"), ("roi", "outcomes_period_roi_ratio"),
            ("uptime", "outcomes_period_uptime_ratio"), ("success_ratio", "outcomes_period_success_ratio"),
        ):  # fmt: skip
            assert row[field] == value(series, metric, project=project), (project, field)
        for field in ("cost", "savings", "value", "net_value"):
            assert row[field] == value(
                series, f"outcomes_period_{field}", project=project, currency="USD"
            )
        for target in row["targets"]:
            labels = {"project": project, "target": target["target"]}
            assert target["objective"] == value(series, "outcomes_target_objective", **labels)
            assert target["status"] == next(
                dict(ls)["status"] for (name, ls), v in series.items()
                if name == "outcomes_target_status" and v == 1 and labels.items() <= dict(ls).items()
            )  # fmt: skip
            for field, metric in (
                ("projected", "outcomes_target_projected"),
                ("attainment", "outcomes_target_attainment_ratio"),
            ):
                exported = value(series, metric, **labels)
                if target["target"] in ("savings", "time_saved") and exported:
                    # projections divide by the elapsed fraction, which moves with the clock
                    assert abs(target[field] - exported) <= abs(exported) * 1e-4, (project, field)
                else:
                    assert target[field] == exported, (project, field)
