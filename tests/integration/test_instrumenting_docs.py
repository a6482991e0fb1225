"""Runs every example of docs/INSTRUMENTING.md against a real broker, gateway and collector."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from collector.app import CollectorApp
from collector.embedded import free_port
from outcomes.gateway.app import GatewaySettings
from outcomes.gateway.server import ThreadedServer, build_server
from outcomes.gateway.tokens import digest
from tests.support.brokers import Broker
from tests.support.live import counted, scrape, total, value, wait_until

DOC = Path(__file__).parents[2] / "docs" / "INSTRUMENTING.md"


def examples() -> dict[str, str]:
    pattern = re.compile(r"<!-- example: ([\w-]+) -->\n```\w+\n(.*?)```", re.DOTALL)
    return dict(pattern.findall(DOC.read_text()))


def run(command: list[str], env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{command[0]} failed:\n{result.stdout}\n{result.stderr}"


def test_every_documented_example_works(
    broker: Broker, topic: str, tmp_path: Path, start_collector: Callable[..., CollectorApp]
) -> None:
    found = examples()
    assert set(found) == {"python", "review", "shell", "github-actions", "webhook"}
    app = start_collector()
    (tmp_path / "deploy.sh").write_text("#!/bin/sh\nexit 0\n")
    (tmp_path / "deploy.sh").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "OUTCOMES_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "OUTCOMES_TOPIC": topic,
    }

    (tmp_path / "example.py").write_text(found["python"])
    run([sys.executable, "example.py"], env, tmp_path)
    (tmp_path / "review.py").write_text(found["review"])
    run([sys.executable, "review.py"], env, tmp_path)
    run(["bash", "-euo", "pipefail", "-c", found["shell"]], env, tmp_path)

    workflow = yaml.safe_load(found["github-actions"])
    step = next(s for s in workflow["jobs"]["deploy"]["steps"] if s.get("name") == "report outcome")
    assert step["if"] == "always()"
    script = (
        step["run"]
        .replace("${{ job.status }}", "success")
        .replace(
            "pip install outcome-telemetry-collector", "true  # installed in the test environment"
        )
    )
    ci_env = {
        **env,
        "GITHUB_REPOSITORY": "acme/infra",
        "GITHUB_RUN_ID": "77",
        "GITHUB_RUN_ATTEMPT": "1",
        "started": "0",
    }
    run(["bash", "-euo", "pipefail", "-c", script], ci_env, tmp_path)

    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(
        f"tokens:\n  - {{name: itsm, sha256: {digest('doc-token')}, projects: ['ticket-*']}}\n"
    )
    port = free_port()
    gateway = ThreadedServer(
        build_server(
            broker.bootstrap_servers, tokens, "127.0.0.1", port, GatewaySettings(topic=topic)
        )
    )
    gateway.start()
    try:
        web_env = {
            **env,
            "OUTCOMES_GATEWAY": f"http://127.0.0.1:{port}",
            "OUTCOMES_TOKEN": "doc-token",
        }
        run(["bash", "-euo", "pipefail", "-c", found["webhook"]], web_env, tmp_path)
    finally:
        gateway.stop()

    wait_until(counted(app.metrics_url, 10))
    series = scrape(app.metrics_url)
    assert total(series, "outcomes_collector_events_total", result="rejected") == 0
    succeeded = {"outcome": "succeeded"}
    assert (
        value(
            series, "outcomes_runs_total", project="disk-cleanup", automation="sweep", **succeeded
        )
        == 1
    )
    assert (
        value(
            series, "outcomes_runs_total", project="disk-cleanup", automation="report", **succeeded
        )
        == 1
    )
    assert value(series, "outcomes_human_effort_seconds_total", project="disk-cleanup") == 120
    incidents = {"project": "disk-cleanup", "service": "storage-api"}
    assert value(series, "outcomes_incidents_total", **incidents) == 1
    assert value(series, "outcomes_incidents_open", **incidents) == 0
    assert (
        value(
            series,
            "outcomes_savings_total",
            project="disk-cleanup",
            category="cloud",
            currency="USD",
        )
        == 42.5
    )
    assert (
        value(
            series, "outcomes_runs_total", project="patch-rollout", automation="deploy", **succeeded
        )
        == 1
    )
    assert (
        value(
            series,
            "outcomes_runs_total",
            project="patch-rollout",
            automation="github-deploy",
            **succeeded,
        )
        == 1
    )
    assert (
        value(
            series,
            "outcomes_runs_total",
            project="ticket-triage",
            automation="auto-resolve",
            **succeeded,
        )
        == 1
    )
    triage = {"project": "ticket-triage"}
    assert value(series, "outcomes_period_reviews", verdict="edited", **triage) == 1
    assert value(series, "outcomes_period_acceptance_ratio", **triage) == 1
    # the webhook example's 1200 s and the agent's 600 s, less the 240 s the review took
    assert value(series, "outcomes_period_time_saved_seconds", **triage) == 1200 + 600 - 240
