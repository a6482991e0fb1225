"""Governance on a running collector: readiness series and their reasons, the decision in
force, value split by evidence — on /metrics and in `outcomes report`, as a portfolio
review would read them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collector.app import CollectorApp
from outcomes.sdk import Emitter
from tests.support.brokers import Broker
from tests.support.live import counted, scrape, value, wait_until

PROJECTS = """\
apiVersion: outcomes/v1
kind: Project
metadata: {name: ready-bot}
spec:
  owner: itsm-sre
  sponsor: vp-infrastructure
  stage: production
  hourlyRate: 80
  objectives: {savings: 100}
---
apiVersion: outcomes/v1
kind: Project
metadata: {name: no-owner}
spec: {sponsor: vp, stage: production, objectives: {savings: 100}}
---
apiVersion: outcomes/v1
kind: Project
metadata: {name: no-baseline}
spec: {owner: sre, sponsor: vp, stage: production, objectives: {timeSavedHours: 10}}
---
apiVersion: outcomes/v1
kind: Project
metadata: {name: no-data}
spec: {owner: sre, sponsor: vp, stage: production, hourlyRate: 80, objectives: {successRate: 0.9}}
---
apiVersion: outcomes/v1
kind: Project
metadata: {name: pilot-x}
spec:
  owner: sre
  sponsor: vp
  stage: pilot
  stageSince: 2026-01-05
  hourlyRate: 80
  objectives: {savings: 10}
"""
DECISION = """\
apiVersion: outcomes/v1
kind: Decision
metadata: {name: pilot-x-review}
spec:
  project: pilot-x
  date: 2026-06-30
  decision: extend
  owner: head-of-platform
  rationale: one more quarter to show savings
  reviewBy: 2026-09-30
"""


def test_readiness_decisions_and_evidence_on_metrics_and_in_the_report(
    broker: Broker, topic: str, tmp_path: Path, start_collector: Callable[..., CollectorApp]
) -> None:
    projects = tmp_path / "projects"
    projects.mkdir()
    (projects / "projects.yaml").write_text(PROJECTS)
    (projects / "decisions.yaml").write_text(DECISION)
    app = start_collector(targets=projects, targets_poll_s=0.2)
    with Emitter(broker.bootstrap_servers, source="tests/governance", topic=topic) as emitter:
        emitter.savings("ready-bot", 40.0, "cloud", basis="bill diff", evidence="measured")
        emitter.savings("ready-bot", 60.0, "labour", basis="tickets x 10 min")
        emitter.savings("no-owner", 5.0, "cloud", basis="bill diff", evidence="measured")
        with emitter.run("no-baseline", "sweep", manual_duration_s=600):
            pass
        emitter.savings("pilot-x", 12.0, "licence", basis="seats", evidence="measured")
        assert emitter.flush(30)
    wait_until(counted(app.metrics_url, 5))
    series = scrape(app.metrics_url)

    def failing(project: str) -> set[str]:
        checks = ("owner", "sponsor", "objectives", "baseline", "data", "scope")
        found = {c: value(series, "outcomes_project_readiness", project=project, check=c)
                 for c in checks}  # fmt: skip
        assert None not in found.values(), (project, found)
        return {check for check, passed in found.items() if passed == 0}

    assert failing("ready-bot") == set()
    assert failing("no-owner") == {"owner"}
    assert failing("no-baseline") == {"baseline"}  # the run is recent: data is there
    assert failing("no-data") == {"data"}
    assert failing("pilot-x") == set()
    assert value(series, "outcomes_project_ready", project="ready-bot") == 1
    assert value(series, "outcomes_project_ready", project="no-owner") == 0
    assert value(series, "outcomes_portfolio_ready_ratio") == 2 / 5

    # the decision in force, overdue since its reviewBy day ended
    assert (
        value(
            series,
            "outcomes_project_decision_info",
            project="pilot-x",
            decision="extend",
            owner="head-of-platform",
        )
        == 1
    )
    due = value(series, "outcomes_project_review_due_timestamp_seconds", project="pilot-x")
    assert due == datetime(2026, 10, 1, tzinfo=UTC).timestamp()

    # value split by evidence adds up to the period value
    pc = dict(project="ready-bot", currency="USD")
    measured = value(series, "outcomes_period_value_by_evidence", **pc, evidence="measured")
    estimated = value(series, "outcomes_period_value_by_evidence", **pc, evidence="estimated")
    assert (measured, estimated) == (40.0, 60.0)
    assert value(series, "outcomes_period_value", **pc) == 100.0

    report = subprocess.run(
        [sys.executable, "-m", "outcomes", "report", "--state", app.settings.state,
         "--targets", str(projects), "--format", "json"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    rows = {row["project"]: row for row in json.loads(report.stdout)["projects"]}
    assert rows["no-owner"]["missing"] == ["no owner declared"]
    assert rows["no-baseline"]["missing"] == ["time saved valued at the default rate"]
    assert rows["no-data"]["missing"] == ["no runs reported in 7 days"]
    assert rows["ready-bot"]["ready"] and rows["ready-bot"]["measured_value"] == 40.0
    assert json.loads(report.stdout)["portfolio"]["ready"] == 2
    assert datetime.now(UTC) - timedelta(days=1) > datetime.fromtimestamp(due or 0, UTC)
    assert value(series, "outcomes_project_declaration_revision", project="ready-bot") == 1

    # the objective is lowered mid-period: a second revision, on /metrics, in the history
    # and flagged by the report in every format
    (projects / "projects.yaml").write_text(
        PROJECTS.replace("{savings: 100}\n---", "{savings: 80}\n---", 1)
    )
    wait_until(
        lambda: (
            value(
                scrape(app.metrics_url),
                "outcomes_project_declaration_revision",
                project="ready-bot",
            )
            == 2
        )
    )
    changed = value(
        scrape(app.metrics_url),
        "outcomes_project_declaration_changed_timestamp_seconds",
        project="ready-bot",
    )
    assert changed is not None and abs(changed - datetime.now(UTC).timestamp()) < 60
    history = subprocess.run(
        [sys.executable, "-m", "outcomes", "targets", "history", "ready-bot",
         "--state", app.settings.state],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert history.returncode == 0, history.stderr
    assert "ready-bot: 2 revisions" in history.stdout
    assert "spec.objectives.savings: 100.0 -> 80.0" in history.stdout
    for kind in ("markdown", "json", "csv", "html"):
        flagged = subprocess.run(
            [sys.executable, "-m", "outcomes", "report", "--state", app.settings.state,
             "--targets", str(projects), "--format", kind],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        assert (
            "savings lowered 100.0 -&gt; 80.0" in flagged.stdout
            if kind == "html"
            else ("savings lowered 100.0 -> 80.0" in flagged.stdout)
        ), kind
