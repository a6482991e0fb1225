"""Every producer path — SDK, `outcomes emit` (single and bulk), HTTP gateway — ends in a
running collector with exact metrics."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collector.app import CollectorApp
from collector.embedded import free_port
from outcomes.gateway.app import GatewaySettings
from outcomes.gateway.server import ThreadedServer, build_server
from outcomes.gateway.tokens import digest
from outcomes.sdk import Emitter
from schemas.binding import format_time
from tests.support.brokers import Broker
from tests.support.live import counted, http_get, parse_series, scrape, total, value, wait_until


def outcomes(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "outcomes", *args],
        capture_output=True, text=True, input=stdin, timeout=300,
    )  # fmt: skip


def test_sdk_events_arrive_exactly(
    broker: Broker, topic: str, start_collector: Callable[..., CollectorApp]
) -> None:
    app = start_collector()
    with Emitter(broker.bootstrap_servers, source="tests/sdk", topic=topic) as emitter:
        for _ in range(3):
            with emitter.run("disk-cleanup", "sweep", manual_duration_s=600, cost=0.25) as run:
                run.human_effort_s = 60
        with pytest.raises(OSError), emitter.run("disk-cleanup", "sweep", manual_duration_s=600):
            raise OSError("disk busy")
        emitter.savings("disk-cleanup", 40.5, "cloud", basis="volumes deleted")
        emitter.savings("disk-cleanup", 12.25, "licence", basis="invoice", evidence="measured")
        assert emitter.flush(30)
    wait_until(counted(app.metrics_url, 6))
    series = scrape(app.metrics_url)
    runs = dict(project="disk-cleanup", automation="sweep")
    assert value(series, "outcomes_runs_total", **runs, outcome="succeeded") == 3
    assert value(series, "outcomes_runs_total", **runs, outcome="failed") == 1
    assert (
        value(series, "outcomes_manual_time_avoided_seconds_total", project="disk-cleanup") == 1800
    )
    assert value(series, "outcomes_human_effort_seconds_total", project="disk-cleanup") == 180
    assert (
        value(series, "outcomes_cost_total", project="disk-cleanup", category="run", currency="USD")
        == 0.75
    )
    assert (
        value(
            series,
            "outcomes_savings_total",
            project="disk-cleanup",
            category="cloud",
            currency="USD",
        )
        == 40.5
    )
    # value = savings + time saved at the default rate; measured: the invoice only
    pc = dict(project="disk-cleanup", currency="USD")
    by_evidence = {
        evidence: value(series, "outcomes_period_value_by_evidence", **pc, evidence=evidence)
        for evidence in ("measured", "estimated")
    }
    measured, estimated = by_evidence["measured"], by_evidence["estimated"]
    period_value = value(series, "outcomes_period_value", **pc)
    assert measured == 12.25 and estimated is not None and period_value is not None
    assert period_value > 12.25 + 40.5  # the time saved is valued too
    assert measured + estimated == pytest.approx(period_value)


def test_sdk_with_kafka_down_never_blocks_the_automation() -> None:
    emitter = Emitter(f"127.0.0.1:{free_port()}", source="s", buffer_events=2)
    start = datetime.now(UTC)
    for _ in range(4):
        with emitter.run("p", "a", manual_duration_s=1):
            pass
    assert datetime.now(UTC) - start < timedelta(seconds=1)
    assert emitter.dropped == 2
    assert emitter.close(timeout_s=0.5) is False


def test_emit_single_event_then_dry_run(
    broker: Broker, topic: str, start_collector: Callable[..., CollectorApp]
) -> None:
    app = start_collector()
    common = ["--bootstrap-servers", broker.bootstrap_servers, "--topic", topic]
    result = outcomes(
        "emit", "run", *common, "--project", "patch-rollout", "--automation", "canary",
        "--outcome", "succeeded", "--duration-s", "120", "--manual-duration-s", "3600",
        "--human-effort-s", "300", "--cost", "2.5", "--id", "ci-run-1", "--source", "ci/github",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "sent outcomes.run.finished ci-run-1 for patch-rollout" in result.stdout
    dry = outcomes("emit", "cost", *common, "--project", "patch-rollout", "--amount", "99",
                   "--category", "licence", "--dry-run")  # fmt: skip
    assert dry.returncode == 0
    assert json.loads(dry.stdout)["data"] == {
        "project": "patch-rollout",
        "amount": 99.0,
        "category": "licence",
    }
    measured = outcomes("emit", "savings", *common, "--project", "patch-rollout", "--amount",
                        "10", "--category", "cloud", "--basis", "invoice 42", "--evidence",
                        "measured", "--dry-run")  # fmt: skip
    assert measured.returncode == 0, measured.stderr
    assert json.loads(measured.stdout)["data"]["evidence"] == "measured"
    guessed = outcomes("emit", "savings", *common, "--project", "patch-rollout", "--amount",
                       "10", "--category", "cloud", "--basis", "x", "--evidence", "guessed")  # fmt: skip
    assert guessed.returncode == 2
    assert "--evidence: Input should be 'measured' or 'estimated'" in guessed.stderr
    bad = outcomes("emit", "run", *common, "--project", "patch-rollout", "--automation", "x",
                   "--outcome", "meh", "--duration-s", "1", "--manual-duration-s", "1",
                   "--human-effort-s", "0", "--cost", "0")  # fmt: skip
    assert bad.returncode == 2
    assert "--outcome: Input should be 'succeeded', 'failed' or 'cancelled'" in bad.stderr
    wait_until(counted(app.metrics_url, 1))
    series = scrape(app.metrics_url)
    assert value(series, "outcomes_period_time_saved_seconds", project="patch-rollout") == 3300
    assert total(series, "outcomes_collector_events_total") == 1  # the dry run sent nothing


def test_emit_to_an_unreachable_broker_fails_clearly() -> None:
    result = outcomes("emit", "cost", "--bootstrap-servers", f"127.0.0.1:{free_port()}",
                      "--project", "p", "--amount", "1", "--category", "other")  # fmt: skip
    assert result.returncode == 2
    assert "cannot reach Kafka" in result.stderr


def _jsonl_lines(count: int, now: datetime, bad: set[int]) -> Iterator[str]:
    for number in range(1, count + 1):
        if number in bad:
            yield '{"specversion": "1.0", "id": "broken"' if number % 2 else json.dumps(
                {"specversion": "1.0", "id": f"b{number}", "source": "itsm-export",
                 "type": "outcomes.run.finished", "time": format_time(now), "data": {"project": "x"}}
            )  # fmt: skip
            continue
        yield json.dumps({
            "specversion": "1.0", "id": f"t{number}", "source": "itsm-export",
            "type": "outcomes.run.finished", "time": format_time(now - timedelta(seconds=number % 3600)),
            "data": {"project": f"proj-{number % 7}", "automation": "close-ticket", "outcome": "succeeded",
                     "duration_s": 1.5, "manual_duration_s": 300.0, "human_effort_s": 0.0, "cost": 0.01},
        })  # fmt: skip


def import_file(broker: Broker, topic: str, path: Path) -> subprocess.CompletedProcess[str]:
    return outcomes(
        "emit", "--file", str(path), "--bootstrap-servers", broker.bootstrap_servers,
        "--topic", topic,
    )  # fmt: skip


def test_bulk_import_of_100k_lines_reports_bad_lines_by_number(
    broker: Broker, topic: str, start_collector: Callable[..., CollectorApp], tmp_path: Path
) -> None:
    count, bad = 100_000, {17, 50_000, 99_999}
    now = max(
        datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC).replace(day=1, hour=0, minute=0)
    )
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(_jsonl_lines(count, now, bad)) + "\n")
    result = import_file(broker, topic, path)
    assert result.returncode == 1
    reported = [line for line in result.stderr.splitlines() if line.startswith(str(path))]
    assert [int(line.split(":")[1]) for line in reported] == sorted(bad)
    assert f"{count - len(bad)} events sent, 0 refused, 3 bad lines, 0 unsent" in result.stderr
    assert "importing history.jsonl" in result.stderr  # the progress bar
    app = start_collector()
    wait_until(counted(app.metrics_url, count - len(bad)), timeout_s=240)
    series = scrape(app.metrics_url)
    assert total(series, "outcomes_runs_total") == count - len(bad)
    assert total(series, "outcomes_manual_time_avoided_seconds_total") == 300.0 * (count - len(bad))


def test_bulk_import_csv(
    broker: Broker, topic: str, start_collector: Callable[..., CollectorApp], tmp_path: Path
) -> None:
    now = format_time(datetime.now(UTC) - timedelta(minutes=1))
    path = tmp_path / "export.csv"
    path.write_text(
        "type,id,source,time,project,amount,category,basis\n"
        f"outcomes.savings.realized,s1,finops,{now},cost-optimizer,120.5,cloud,rightsizing\n"
        f"outcomes.savings.realized,s2,finops,{now},cost-optimizer,-3,cloud,oops\n"
        f"outcomes.cost.incurred,c1,finops,{now},cost-optimizer,20,licence,\n"
        f"outcomes.nonsense,c2,finops,{now},cost-optimizer,20,licence,\n"
    )
    result = import_file(broker, topic, path)
    assert result.returncode == 1
    assert f"{path}:3: invalid: data.amount: Input should be greater than 0" in result.stderr
    assert f"{path}:5: type: 'outcomes.nonsense' is not an outcome event type" in result.stderr
    app = start_collector()
    wait_until(counted(app.metrics_url, 2))
    series = scrape(app.metrics_url)
    assert (
        value(
            series,
            "outcomes_savings_total",
            project="cost-optimizer",
            category="cloud",
            currency="USD",
        )
        == 120.5
    )
    assert (
        value(
            series,
            "outcomes_cost_total",
            project="cost-optimizer",
            category="licence",
            currency="USD",
        )
        == 20
    )


TOKEN, OTHER_TOKEN = "s3cret-ci-token", "other-token"


@pytest.fixture
def gateway(broker: Broker, topic: str, tmp_path: Path) -> Iterator[str]:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(
        f"tokens:\n  - {{name: ci, sha256: {digest(TOKEN)}, projects: ['ticket-*', 'patch-rollout']}}\n"
        f"  - {{name: other, sha256: {digest(OTHER_TOKEN)}, projects: ['finops-*']}}\n"
        f"  - {{name: slow, sha256: {digest('slow-token')}, projects: ['*'], rate_per_s: 0.01, burst: 1}}\n"
    )
    port = free_port()
    server = ThreadedServer(build_server(broker.bootstrap_servers, tokens, "127.0.0.1", port,
                                         GatewaySettings(topic=topic, max_body_bytes=20_000)))  # fmt: skip
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def post(
    url: str, body: bytes, headers: dict[str, str], token: str | None = TOKEN
) -> tuple[int, Any]:
    if token:
        headers = {**headers, "Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url + "/v1/events", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _event(event_id: str, project: str = "ticket-triage", **data: Any) -> dict[str, Any]:
    body = {"project": project, "automation": "classify", "outcome": "succeeded", "duration_s": 2.0,
            "manual_duration_s": 600.0, "human_effort_s": 0.0, "cost": 0.5, **data}  # fmt: skip
    return {"specversion": "1.0", "id": event_id, "source": "webhook/itsm", "type": "outcomes.run.finished",
            "time": format_time(datetime.now(UTC) - timedelta(seconds=5)), "data": body}  # fmt: skip


def test_gateway_modes_arrive_exactly(
    gateway: str, start_collector: Callable[..., CollectorApp]
) -> None:
    app = start_collector()
    structured = _event("g1")
    status, body = post(
        gateway, json.dumps(structured).encode(), {"Content-Type": "application/cloudevents+json"}
    )
    assert (status, body) == (202, {"accepted": 1, "ids": ["g1"]})
    binary = _event("g2")
    headers = {f"ce-{k}": v for k, v in binary.items() if k != "data"}
    status, _ = post(
        gateway,
        json.dumps(binary["data"]).encode(),
        {**headers, "Content-Type": "application/json"},
    )
    assert status == 202
    bill = {**_event("g5", project="patch-rollout"), "type": "outcomes.savings.realized"}
    bill["data"] = {"project": "patch-rollout", "amount": 7.5, "category": "licence",
                    "basis": "seats removed (invoice)", "evidence": "measured"}  # fmt: skip
    batch = [_event("g3"), _event("g4", project="patch-rollout"), bill]
    status, body = post(
        gateway, json.dumps(batch).encode(), {"Content-Type": "application/cloudevents-batch+json"}
    )
    assert (status, body["accepted"]) == (202, 3)
    wait_until(counted(app.metrics_url, 5))
    series = scrape(app.metrics_url)
    assert (
        value(
            series,
            "outcomes_runs_total",
            project="ticket-triage",
            automation="classify",
            outcome="succeeded",
        )
        == 3
    )
    assert value(series, "outcomes_period_cost", project="patch-rollout", currency="USD") == 0.5
    measured = dict(project="patch-rollout", currency="USD", evidence="measured")
    assert value(series, "outcomes_period_value_by_evidence", **measured) == 7.5


def test_gateway_refusals(gateway: str) -> None:
    structured = {"Content-Type": "application/cloudevents+json"}
    batch = {"Content-Type": "application/cloudevents-batch+json"}
    good = json.dumps(_event("r1")).encode()
    assert post(gateway, good, structured, token=None)[0] == 401
    assert post(gateway, good, structured, token="wrong")[0] == 401
    status, body = post(gateway, good, structured, token=OTHER_TOKEN)
    assert (status, body["error"]) == (403, "token 'other' may not send for: ticket-triage")
    invalid = [_event("r2"), _event("r3", duration_s=-1), {"nope": 1}, _event("r4", currency="EUR")]
    status, body = post(gateway, json.dumps(invalid).encode(), batch)
    assert status == 400
    assert [(e["index"], e["reason"]) for e in body["events"]] == [
        (1, "invalid"),
        (2, "invalid"),
        (3, "currency"),
    ]
    assert "data.duration_s" in body["events"][0]["detail"]
    status, body = post(gateway, b"x" * 30_000, structured)
    assert (status, body["error"]) == (413, "body larger than 20000 bytes")
    assert post(gateway, b"{", structured)[0] == 400
    assert post(gateway, b"[]", batch)[0] == 400
    status, _ = post(gateway, good, structured, token="slow-token")
    assert status == 202
    status, body = post(gateway, json.dumps(_event("r9")).encode(), structured, token="slow-token")
    assert (status, body["error"]) == (429, "rate limit of token 'slow' exceeded")
    with urllib.request.urlopen(gateway + "/openapi.json") as response:
        paths = json.loads(response.read())["paths"]
        assert {"/v1/events", "/v1/hooks/{integration}", "/metrics"} <= set(paths)
        assert "/v1/otlp/{integration}/v1/traces" in paths


def test_gateway_tells_the_sender_the_truth_at_once(
    gateway: str, start_collector: Callable[..., CollectorApp], caplog: pytest.LogCaptureFixture
) -> None:
    """future / too_late are answered 400 per event (not 202 and a dead letter later); a
    token's project is checked before a missing time could matter; a missing time is the
    receipt time; every request is logged (no secrets) and counted on /metrics."""
    app = start_collector()
    structured = {"Content-Type": "application/cloudevents+json"}
    batch = {"Content-Type": "application/cloudevents-batch+json"}
    now = datetime.now(UTC)
    future, late = _event("t1"), _event("t2")
    future["time"] = format_time(now + timedelta(days=1))
    late["time"] = format_time(now - timedelta(days=70))
    with caplog.at_level(logging.INFO, logger="outcomes.gateway.access"):
        status, body = post(gateway, json.dumps([_event("t0"), future, late]).encode(), batch)
        assert status == 400
        assert [(e["index"], e["id"], e["reason"]) for e in body["events"]] == [
            (1, "t1", "future"), (2, "t2", "too_late"),
        ]  # fmt: skip
        assert "closed more than the grace window" in body["events"][1]["detail"]
        untimed = _event("t3")
        del untimed["time"]
        status, body = post(gateway, json.dumps(untimed).encode(), structured, token=OTHER_TOKEN)
        assert (status, body["error"]) == (403, "token 'other' may not send for: ticket-triage")
        assert post(gateway, json.dumps(untimed).encode(), structured) == (
            202,
            {"accepted": 1, "ids": ["t3"]},
        )
        history = {**late, "id": "t4", "outcomesbackfill": True}  # the same event as history
        assert post(gateway, json.dumps(history).encode(), structured)[0] == 202
    wait_until(counted(app.metrics_url, 2))
    assert total(scrape(app.metrics_url), "outcomes_collector_events_total", result="accepted") == 2
    series = parse_series(http_get(gateway + "/metrics")[1])
    assert value(series, "outcomes_gateway_requests_total", route="/v1/events", code="400") == 1
    assert value(series, "outcomes_gateway_requests_total", route="/v1/events", code="403") == 1
    assert value(series, "outcomes_gateway_requests_total", route="/v1/events", code="202") == 2
    for result, count in (("future", 1), ("too_late", 1), ("forbidden", 1), ("accepted", 2)):
        assert value(series, "outcomes_gateway_events_total", result=result) == count, result
    lines = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "outcomes.gateway.access"
    ]
    assert [(line["status"], line["token"]) for line in lines] == [
        (400, "ci"),
        (403, "other"),
        (202, "ci"),
        (202, "ci"),
    ]
    assert lines[2]["events"] == 1 and lines[0]["route"] == "/v1/events"
    assert TOKEN not in caplog.text and OTHER_TOKEN not in caplog.text
