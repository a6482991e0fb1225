"""Human review end to end: runs and reviews through the SDK, the CLI, the gateway's
/v1/events and OTLP evaluation events (a review before its run, replaced verdicts, a
duplicate, a review whose run never comes, a failed run reviewed), counted by a collector
process that is killed with SIGKILL and restarted; the period's time saved, effort, reviews
by verdict, acceptance and coverage ratios, pending count and acceptanceRate status are
what the formulas say, before and after the kill, and a verdict given after the restart
replaces the stored one exactly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collector.embedded import free_port
from outcomes.sdk import Emitter
from tests.support.brokers import Broker
from tests.support.gateway import hook_gateway
from tests.support.live import Series, http_get, scrape, total, value, wait_until
from tests.support.processes import start_collect_process

SECRET = "review-s3cret"
PROJECT = "ticket-triage"
DECLARATIONS = f"""\
apiVersion: outcomes/v1
kind: Project
metadata: {{name: {PROJECT}}}
spec:
  owner: itsm-sre
  objectives: {{acceptanceRate: 0.6}}
  guards: {{minReviews: 4}}
---
apiVersion: outcomes/v1
kind: Integration
metadata: {{name: ai-agents}}
spec:
  type: otlp
  secret: {{env: TEST_REVIEW_OTLP_SECRET}}
  rules:
    - match: {{resource.service.name: "triage-*"}}
      project: {PROJECT}
      manualDurationS: 900
      review: {{evaluation: human_review}}
"""
TRACE, AGENT_SPAN = "7a1c0ffee0000000000000000000beef", "00000000000000a1"


@pytest.fixture
def targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "targets"
    directory.mkdir()
    (directory / "declarations.yaml").write_text(DECLARATIONS)
    monkeypatch.setenv("TEST_REVIEW_OTLP_SECRET", SECRET)
    return directory


@pytest.fixture
def gateway(broker: Broker, topic: str, targets: Path, tmp_path: Path) -> Iterator[str]:
    with hook_gateway(broker, topic, targets, tmp_path) as url:
        yield url


def post(url: str, body: dict[str, Any], headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return int(answer.status)


def cloud_event(event_id: str, kind: str, time: datetime, **data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "tests/http",
        "type": f"outcomes.{kind}",
        "time": time.isoformat(),
        "datacontenttype": "application/json",
        "data": {"project": PROJECT, **data},
    }


def nanos(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1e9))


def otlp_resource(**signal: Any) -> dict[str, Any]:
    service = {"key": "service.name", "value": {"stringValue": "triage-bot"}}
    return {"resource": {"attributes": [service]}, **signal}


def agent_span(end: datetime) -> dict[str, Any]:
    """An `invoke_agent` span as in tests/unit/…/payloads/otlp-agent-spans.json."""
    span = {
        "traceId": TRACE,
        "spanId": AGENT_SPAN,
        "name": "invoke_agent triage",
        "kind": 3,
        "startTimeUnixNano": nanos(end - timedelta(seconds=4)),
        "endTimeUnixNano": nanos(end),
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}},
            {"key": "gen_ai.agent.name", "value": {"stringValue": "triage"}},
        ],
        "status": {},
    }
    return {"resourceSpans": [otlp_resource(scopeSpans=[{"spans": [span]}])]}


def evaluation(label: str, at: datetime) -> dict[str, Any]:
    """A `gen_ai.evaluation.result` log record as in …/payloads/otlp-evaluation-logs.json."""
    record = {
        "timeUnixNano": nanos(at),
        "eventName": "gen_ai.evaluation.result",
        "traceId": TRACE,
        "spanId": AGENT_SPAN,
        "attributes": [
            {"key": "gen_ai.evaluation.name", "value": {"stringValue": "human_review"}},
            {"key": "gen_ai.evaluation.score.label", "value": {"stringValue": label}},
        ],
    }
    return {"resourceLogs": [otlp_resource(scopeLogs=[{"logRecords": [record]}])]}


def cli(broker: Broker, topic: str, *arguments: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "outcomes", "emit", *arguments[:1], "--bootstrap-servers",
         broker.bootstrap_servers, "--topic", topic, *arguments[1:]],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def expect(series: Series, *, saved: float, reviews: dict[str, float], pending: float) -> None:
    """The period's review figures, recomputed from `reviews` (runs by verdict)."""
    p = {"project": PROJECT}
    assert value(series, "outcomes_period_time_saved_seconds", **p) == saved
    found = {
        verdict: value(series, "outcomes_period_reviews", verdict=verdict, **p)
        for verdict in ("accepted", "edited", "rejected", "escalated")
    }
    assert found == reviews
    reviewed = sum(reviews.values())
    accepted = reviews["accepted"] + reviews["edited"]
    assert value(series, "outcomes_period_acceptance_ratio", **p) == accepted / reviewed
    assert value(series, "outcomes_period_review_coverage_ratio", **p) == reviewed / 5
    assert value(series, "outcomes_reviews_pending", **p) == pending


def test_reviews_from_every_front_door_survive_a_kill_9(
    broker: Broker, topic: str, targets: Path, gateway: str, tmp_path: Path
) -> None:
    port, state, log = free_port(), tmp_path / "state.db", tmp_path / "collector.log"
    metrics = f"http://127.0.0.1:{port}/metrics"

    def collector() -> subprocess.Popen[bytes]:
        return start_collect_process(
            broker, topic, f"{topic}-reviews", str(state), port, log, targets=str(targets)
        )

    process = collector()
    now = datetime.now(UTC).replace(microsecond=0)
    at = [now - timedelta(minutes=30 - i) for i in range(30)]  # increasing event times
    events = {"authorization": "Bearer unused", "content-type": "application/cloudevents+json"}
    otlp = {"authorization": f"Bearer {SECRET}", "content-type": "application/json"}

    # SDK: a run, then two verdicts on it; the later one (accepted, 30 s) replaces the first
    with Emitter(broker.bootstrap_servers, source="tests/sdk", topic=topic) as emitter:
        with emitter.run(PROJECT, "sdk-agent", manual_duration_s=900) as run:
            pass
        emitter.review(PROJECT, run.id, "rejected", automation="sdk-agent",
                       human_effort_s=60, time=at[2])  # fmt: skip
        emitter.review(PROJECT, run.id, "accepted", automation="sdk-agent",
                       human_effort_s=30, time=at[3])  # fmt: skip
        assert emitter.flush()
    # CLI: a succeeded run edited with 120 s of fix-up; a failed run rejected (forfeits nothing)
    cli(broker, topic, "run", "--id", "cli-run-1", "--project", PROJECT, "--automation",
        "cli-agent", "--outcome", "succeeded", "--manual-duration-s", "600")  # fmt: skip
    cli(broker, topic, "review", "--project", PROJECT, "--automation", "cli-agent",
        "--subject", "cli-run-1", "--verdict", "edited", "--human-effort-s", "120",
        "--time", at[5].isoformat())  # fmt: skip
    cli(broker, topic, "run", "--id", "cli-run-2", "--project", PROJECT, "--automation",
        "cli-agent", "--outcome", "failed", "--manual-duration-s", "600")  # fmt: skip
    cli(broker, topic, "review", "--project", PROJECT, "--automation", "cli-agent",
        "--subject", "cli-run-2", "--verdict", "rejected", "--time", at[6].isoformat())  # fmt: skip
    # /v1/events: a review before its run (pending, then applied), sent twice; a review of a
    # run that never comes
    early = cloud_event("http-review-1", "review.recorded", at[7], automation="http-agent",
                        subject="http-run-1", verdict="escalated")  # fmt: skip
    assert post(f"{gateway}/v1/events", early, events) == 202
    assert post(f"{gateway}/v1/events", early, events) == 202
    lost = cloud_event("http-review-2", "review.recorded", at[8], automation="http-agent",
                       subject="never-run", verdict="accepted")  # fmt: skip
    assert post(f"{gateway}/v1/events", lost, events) == 202
    http_run = cloud_event("http-run-1", "run.finished", at[9], automation="http-agent",
                           outcome="succeeded", manual_duration_s=300.0, human_effort_s=0.0,
                           cost=0.0)  # fmt: skip
    assert post(f"{gateway}/v1/events", http_run, events) == 202
    # OTLP: an agent invocation and a person's verdict on it, as an evaluation event
    assert post(f"{gateway}/v1/otlp/ai-agents/v1/traces", agent_span(at[10]), otlp) == 200
    assert post(f"{gateway}/v1/otlp/ai-agents/v1/logs", evaluation("rejected", at[11]), otlp) == 200

    # 5 runs, 4 succeeded: 900 + 600 + 300 + 900 manual; forfeited: http 300 (escalated) +
    # otlp 900 (rejected); review effort 30 + 120
    saved = 900 + 600 + 300 + 900 - (300 + 900) - (30 + 120)
    verdicts = {"accepted": 1.0, "edited": 1.0, "rejected": 2.0, "escalated": 1.0}
    reviews_recorded = 7  # SDK 2, CLI 2, HTTP 2 (the copy is a duplicate), OTLP 1

    def settled() -> Series | None:
        status, _ = http_get(metrics)
        if status != 200:
            return None
        series = scrape(metrics)
        return series if total(series, "outcomes_reviews_total") == reviews_recorded else None

    try:
        series = wait_until(settled, timeout_s=90)
        wait_until(lambda: total(scrape(metrics), "outcomes_runs_total") == 5, timeout_s=30)
        series = scrape(metrics)
        expect(series, saved=saved, reviews=verdicts, pending=1.0)
        status = {"project": PROJECT, "target": "acceptance_rate"}
        assert value(series, "outcomes_target_status", status="off_target", **status) == 1
        assert value(series, "outcomes_target_attainment_ratio", **status) == pytest.approx(
            (1 - 0.6) / (1 - 0.4)
        )

        process.send_signal(signal.SIGKILL)
        process.wait()
        process = collector()
        series = wait_until(settled, timeout_s=90)
        expect(series, saved=saved, reviews=verdicts, pending=1.0)

        # after the restart a later verdict on the OTLP run replaces the stored one exactly
        assert post(f"{gateway}/v1/otlp/ai-agents/v1/logs", evaluation("accepted", at[20]),
                    otlp) == 200  # fmt: skip
        reviews_recorded += 1
        series = wait_until(settled, timeout_s=90)
        after = {"accepted": 2.0, "edited": 1.0, "rejected": 1.0, "escalated": 1.0}
        expect(series, saved=saved + 900, reviews=after, pending=1.0)
        assert value(series, "outcomes_target_status", status="met", **status) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
