"""Webhooks of the tools SREs run, through the gateway into a live collector: real
payload shapes (tests/unit/collector/integrations/payloads), each tool's own
authentication, redeliveries counted once, unmapped deliveries kept in the dead-letter
topic, refusals where due, and the gateway's counters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collector.app import CollectorApp
from schemas.binding import KafkaRecord
from tests.support.brokers import Broker
from tests.support.gateway import hook_gateway as running_hook_gateway
from tests.support.live import (
    consume_all,
    counted,
    http_get,
    parse_series,
    produce,
    scrape,
    total,
    value,
    wait_until,
)

PAYLOADS = Path(__file__).parents[1] / "unit" / "collector" / "integrations" / "payloads"
GITHUB_SECRET, AWX_SECRET, JENKINS_SECRET = "gh-s3cret", "awx-s3cret", "jenkins-s3cret"
GITLAB_SECRET, CDEVENTS_SECRET = "gl-s3cret", "cde-s3cret"
WRONG = "wr0ng-s3cret-offered"
NOW = datetime.now(UTC).replace(microsecond=0)


def stamp(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


INTEGRATIONS = """\
apiVersion: outcomes/v1
kind: Integration
metadata: {name: github-ci}
spec:
  type: github
  secret: {env: TEST_GITHUB_WEBHOOK_SECRET}
  rules:
    - match: {repository: "octo-org/*"}
      project: release-automation
      automation: "ci-{workflow}"
      manualDurationS: 1800
      cost: 0.05
      costPerHour: 36
---
apiVersion: outcomes/v1
kind: Integration
metadata: {name: awx}
spec:
  type: awx
  secret: {file: SECRET_FILE}
  rules:
    - match: {project: "Demo*"}
      project: patch-rollout
      automation: "{playbook}"
      manualDurationS: 3600
      humanEffortS: 300
---
apiVersion: outcomes/v1
kind: Integration
metadata: {name: jenkins}
spec:
  type: jenkins
  secret: {env: TEST_JENKINS_SECRET}
  rules:
    - project: release-automation
      automation: "jenkins-{job}"
      manualDurationS: 600
---
apiVersion: outcomes/v1
kind: Integration
metadata: {name: gitlab}
spec:
  type: gitlab
  secret: {env: TEST_GITLAB_SECRET}
  rules:
    - match: {project: "gitlab-org/*"}
      project: release-automation
      automation: gitlab-pipeline
      manualDurationS: 900
---
apiVersion: outcomes/v1
kind: Integration
metadata: {name: cdevents}
spec:
  type: cdevents
  secret: {env: TEST_CDEVENTS_SECRET}
  rules:
    - match: {pipeline: "my*"}
      project: release-automation
      automation: "cd-{pipeline}"
      manualDurationS: 1200
"""


@pytest.fixture
def hook_gateway(
    broker: Broker, topic: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    secret_file = tmp_path / "awx-secret"
    secret_file.write_text(AWX_SECRET + "\n")
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "integrations.yaml").write_text(
        INTEGRATIONS.replace("SECRET_FILE", str(secret_file))
    )
    for name, secret in (("GITHUB_WEBHOOK", GITHUB_SECRET), ("JENKINS", JENKINS_SECRET),
                         ("GITLAB", GITLAB_SECRET), ("CDEVENTS", CDEVENTS_SECRET)):  # fmt: skip
        monkeypatch.setenv(f"TEST_{name}_SECRET", secret)
    with running_hook_gateway(broker, topic, targets, tmp_path) as url:
        yield url


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def github_body(repository: str = "octo-org/octo-repo", run_id: int = 289782451) -> bytes:
    document = json.loads((PAYLOADS / "github-workflow_run-completed.json").read_text())
    document["repository"]["full_name"] = repository
    document["workflow_run"].update(id=run_id, created_at=stamp(10), updated_at=stamp(5))
    return json.dumps(document).encode()


def github_headers(
    body: bytes, secret: str = GITHUB_SECRET, event: str = "workflow_run"
) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": event, "X-Hub-Signature-256": f"sha256={signature}",
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "Content-Type": "application/json"}  # fmt: skip


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}


def other_tool_deliveries() -> list[tuple[str, bytes, dict[str, str]]]:
    awx = json.loads((PAYLOADS / "awx-notification.json").read_text())
    awx.update(started=stamp(30), finished=stamp(20))
    jenkins = json.loads((PAYLOADS / "jenkins-notification.json").read_text())
    jenkins["build"]["timestamp"] = int((NOW - timedelta(minutes=3)).timestamp() * 1000)
    gitlab = json.loads((PAYLOADS / "gitlab-pipeline-hook.json").read_text())
    gitlab["object_attributes"].update(created_at=stamp(9), finished_at=stamp(8))
    cdevent = json.loads((PAYLOADS / "cdevents-pipelinerun-finished-0.5.json").read_text())
    cdevent["context"]["timestamp"] = stamp(2)
    basic = base64.b64encode(f"tower:{AWX_SECRET}".encode()).decode()
    return [
        ("awx", json.dumps(awx).encode(), {"Authorization": f"Basic {basic}"}),
        ("jenkins", json.dumps(jenkins).encode(), bearer(JENKINS_SECRET)),
        ("gitlab", json.dumps(gitlab).encode(),
         {"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": GITLAB_SECRET}),
        ("cdevents", json.dumps(cdevent).encode(), bearer(CDEVENTS_SECRET)),
    ]  # fmt: skip


def outcomes(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "outcomes", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_tool_webhooks_become_exact_runs_with_refusals_and_dead_letters(
    broker: Broker,
    topic: str,
    tmp_path: Path,
    hook_gateway: str,
    start_collector: Callable[..., CollectorApp],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # everything the gateway, the collector and the clients log
    app = start_collector()
    hooks = f"{hook_gateway}/v1/hooks"
    body = github_body()
    assert post(f"{hooks}/github-ci", body, github_headers(body)) == (
        202,
        {"result": "accepted", "events": 1},
    )
    assert post(f"{hooks}/github-ci", body, github_headers(body))[0] == 202  # GitHub's redelivery
    for name, payload, headers in other_tool_deliveries():
        status, answer = post(f"{hooks}/{name}", payload, headers)
        assert (status, answer) == (202, {"result": "accepted", "events": 1}), name
    # refusals: nothing produced
    assert post(f"{hooks}/github-ci", body, github_headers(body, secret=WRONG))[0] == 401
    assert post(f"{hooks}/github-ci", body, {"X-GitHub-Event": "workflow_run"})[0] == 401
    assert post(f"{hooks}/jenkins", body, bearer(WRONG))[0] == 401
    assert post(f"{hooks}/nobody", body, github_headers(body))[0] == 404
    broken = b'{"action": "completed", "workflow_run": '
    assert post(f"{hooks}/github-ci", broken, github_headers(broken))[0] == 400
    ping = b'{"zen": "Keep it logically awesome."}'
    status, answer = post(f"{hooks}/github-ci", ping, github_headers(ping, event="ping"))
    assert (status, answer["result"]) == (202, "ignored")
    stranger = github_body("someone/else", run_id=7)
    status, answer = post(f"{hooks}/github-ci", stranger, github_headers(stranger))
    assert (status, answer["result"], answer["events"]) == (202, "unmapped", 0)

    # the collector: 5 runs (the redelivery a duplicate), baselines and cost as the rules say
    wait_until(counted(app.metrics_url, 6))
    series = scrape(app.metrics_url)
    assert total(series, "outcomes_collector_events_total", result="accepted") == 5
    assert total(series, "outcomes_collector_events_total", result="duplicate") == 1
    for automation in (
        "ci-test",
        "hello_world.yml",
        "jenkins-asgard",
        "gitlab-pipeline",
        "cd-mypipeline",
    ):
        assert total(series, "outcomes_runs_total", automation=automation) == 1, automation
    assert value(series, "outcomes_runs_total", project="release-automation", automation="cd-mypipeline",
                 outcome="failed") == 1  # fmt: skip
    assert (
        value(series, "outcomes_manual_time_avoided_seconds_total", project="release-automation")
        == 1800 + 600 + 900
    )
    assert value(series, "outcomes_human_effort_seconds_total", project="patch-rollout") == 300
    assert value(
        series, "outcomes_cost_total", project="release-automation", category="run", currency="USD"
    ) == pytest.approx(0.05 + 36 * 300 / 3600)

    # the unmapped delivery is in the dead-letter topic, raw, without its signature
    (letter,) = consume_all(broker.bootstrap_servers, f"{topic}.dlq", 1)
    headers = {name: raw.decode() for name, raw in letter.headers}
    assert letter.value == stranger and letter.key == b"github-ci"
    assert headers["outcomes_error_reason"] == "unmapped"
    assert headers["outcomes_integration"] == "github-ci"
    assert headers["http_x-github-event"] == "workflow_run"
    assert "http_x-hub-signature-256" not in headers

    # a rule for the stranger's repository, then the documented replay: once
    targets = tmp_path / "targets" / "integrations.yaml"
    targets.write_text(targets.read_text().replace(
        "      automation: \"ci-{workflow}\"",
        "      automation: \"ci-{workflow}\"\n    - match: {repository: \"someone/*\"}\n"
        "      project: release-automation\n      automation: adopted", 1))  # fmt: skip
    common = ("--bootstrap-servers", broker.bootstrap_servers, "--topic", topic)
    listed = outcomes("dlq", "tail", *common, "--reason", "unmapped", "--json")
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    assert json.loads(line)["integration"] == "github-ci"
    replayed = outcomes(
        "dlq", "replay", *common, "--reason", "unmapped", "--targets", str(targets.parent)
    )
    assert replayed.returncode == 0 and "replayed 1;" in replayed.stdout, (
        replayed.stdout + replayed.stderr
    )
    again = outcomes(
        "dlq", "replay", *common, "--reason", "unmapped", "--targets", str(targets.parent)
    )
    assert "replayed 0;" in again.stdout, again.stdout + again.stderr
    wait_until(counted(app.metrics_url, 7))
    adopted = scrape(app.metrics_url)
    assert total(adopted, "outcomes_runs_total", automation="adopted") == 1

    # no secret, offered credential or signature anywhere the product writes: logs (every
    # level), the topic and its dead letters (headers and values), either /metrics
    records = consume_all(broker.bootstrap_servers, topic, 8) + consume_all(
        broker.bootstrap_servers, f"{topic}.dlq", 1
    )
    written = "\n".join(
        [caplog.text, http_get(f"{hook_gateway}/metrics")[1], http_get(app.metrics_url)[1]]
        + [repr((r.key, r.value, r.headers)) for r in records]
    )
    credentials = {
        *(GITHUB_SECRET, AWX_SECRET, JENKINS_SECRET, GITLAB_SECRET, CDEVENTS_SECRET, WRONG),
        github_headers(body)["X-Hub-Signature-256"].removeprefix("sha256="),
        base64.b64encode(f"tower:{AWX_SECRET}".encode()).decode(),
    }
    assert len(caplog.records) > 50 and len(records) >= 8
    assert [c for c in credentials if c in written] == []

    gateway = parse_series(http_get(f"{hook_gateway}/metrics")[1])
    hooks_total = {tuple(sorted(dict(labels).items())): v for (n, labels), v in gateway.items()
                   if n == "outcomes_gateway_hooks_total"}  # fmt: skip
    assert hooks_total == {
        (("integration", "github-ci"), ("result", "accepted")): 2,
        (("integration", "github-ci"), ("result", "unauthorized")): 2,
        (("integration", "github-ci"), ("result", "invalid")): 1,
        (("integration", "github-ci"), ("result", "ignored")): 1,
        (("integration", "github-ci"), ("result", "unmapped")): 1,
        (("integration", "awx"), ("result", "accepted")): 1,
        (("integration", "jenkins"), ("result", "accepted")): 1,
        (("integration", "jenkins"), ("result", "unauthorized")): 1,
        (("integration", "gitlab"), ("result", "accepted")): 1,
        (("integration", "cdevents"), ("result", "accepted")): 1,
    }


CDEVENTS_ONLY = """\
apiVersion: outcomes/v1
kind: Integration
metadata: {name: cdevents}
spec:
  type: cdevents
  secret: {env: TEST_CDEVENTS_SECRET}
  rules:
    - match: {pipeline: "my*"}
      project: release-automation
      automation: "cd-{pipeline}"
      manualDurationS: 1200
    - match: {task: "build"}
      project: release-automation
      automation: "task-{task}"
      manualDurationS: 60
"""


def cdevent(sample: str, subject: str, minutes_ago: float, **content: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PAYLOADS / sample).read_text())
    document["context"]["timestamp"] = stamp(minutes_ago)
    document["subject"]["id"] = subject
    document["subject"]["content"].update(content)
    return document


def test_cdevents_on_the_topic_are_translated_by_the_rules(
    broker: Broker, topic: str, tmp_path: Path, start_collector: Callable[..., CollectorApp]
) -> None:
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "cdevents.yaml").write_text(CDEVENTS_ONLY)
    app = start_collector(targets=targets)
    binary = cdevent("cdevents-pipelinerun-finished-0.5.json", "run-1", 4)
    structured = cdevent("cdevents-pipelinerun-finished-0.4.json", "run-2", 3)
    task = cdevent("cdevents-taskrun-finished-0.5.json", "task-1", 2, taskName="build")
    queued = cdevent("cdevents-pipelinerun-finished-0.5.json", "run-3", 1)
    queued["context"]["type"] = "dev.cdevents.pipelinerun.queued.0.2.0"
    stranger = cdevent("cdevents-pipelinerun-finished-0.5.json", "run-4", 1, pipelineName="other")
    ce = [("ce_specversion", b"1.0"), ("content-type", b"application/json")]
    records = [
        KafkaRecord(b"cd", [*ce, ("ce_type", binary["context"]["type"].encode())], json.dumps(binary).encode()),
        KafkaRecord(b"cd", [("content-type", b"application/cloudevents+json")],
                    json.dumps({"specversion": "1.0", "id": "x", "source": "/s", "type": structured["context"]["type"],
                                "data": structured}).encode()),
        KafkaRecord(b"cd", [], json.dumps(task).encode()),
        KafkaRecord(b"cd", [], json.dumps(queued).encode()),
        KafkaRecord(b"cd", [], json.dumps(stranger).encode()),
        KafkaRecord(b"cd", [*ce, ("ce_type", binary["context"]["type"].encode())], json.dumps(binary).encode()),
    ]  # fmt: skip
    produce(broker.bootstrap_servers, topic, records)
    # 6 tool records, then the 4 run events they became (one a duplicate) back on the topic
    wait_until(counted(app.metrics_url, 10))
    series = scrape(app.metrics_url)
    assert (
        total(series, "outcomes_collector_events_total", type="cdevents", result="translated") == 4
    )
    assert total(series, "outcomes_collector_events_total", type="cdevents", result="ignored") == 1
    assert total(series, "outcomes_collector_rejected_total", reason="unmapped") == 1
    assert (
        total(
            series,
            "outcomes_collector_events_total",
            type="outcomes.run.finished",
            result="accepted",
        )
        == 3
    )
    assert (
        total(
            series,
            "outcomes_collector_events_total",
            type="outcomes.run.finished",
            result="duplicate",
        )
        == 1
    )
    assert value(series, "outcomes_runs_total", project="release-automation", automation="cd-mypipeline",
                 outcome="failed") == 1  # fmt: skip
    assert value(series, "outcomes_runs_total", project="release-automation", automation="cd-mypipeline",
                 outcome="succeeded") == 1  # fmt: skip
    assert (
        value(series, "outcomes_manual_time_avoided_seconds_total", project="release-automation")
        == 1200
    )
    (letter,) = consume_all(broker.bootstrap_servers, f"{topic}.dlq", 1)
    assert json.loads(letter.value)["subject"]["id"] == "run-4"
    assert dict(letter.headers)["outcomes_error_reason"] == b"unmapped"


def test_samples_dated_years_ago_are_refused_with_the_reason_never_accepted(
    hook_gateway: str, start_collector: Callable[..., CollectorApp]
) -> None:
    """The tools' samples as published (2016–2023): every one is answered `refused` naming
    `too_late`, nothing reaches the topic, and the gateway counts them as refused."""
    app = start_collector()
    hooks = f"{hook_gateway}/v1/hooks"
    github = (PAYLOADS / "github-workflow_run-completed.json").read_bytes()
    github = json.dumps({**json.loads(github), "repository": {"full_name": "octo-org/x"}}).encode()
    awx = (PAYLOADS / "awx-notification.json").read_bytes()
    basic = base64.b64encode(f"tower:{AWX_SECRET}".encode()).decode()
    gitlab = (PAYLOADS / "gitlab-pipeline-hook.json").read_bytes()
    deliveries = [
        ("github-ci", github, github_headers(github)),
        ("awx", awx, {"Authorization": f"Basic {basic}"}),
        ("gitlab", gitlab, {"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": GITLAB_SECRET}),
    ]
    for name, body, headers in deliveries:
        status, answer = post(f"{hooks}/{name}", body, headers)
        assert status == 202, (name, answer)
        assert answer["result"] == "refused" and answer["events"] == 0, (name, answer)
        (refused,) = answer["refused"]
        assert refused["reason"] == "too_late" and "closed more than" in refused["detail"]
    gateway = parse_series(http_get(f"{hook_gateway}/metrics")[1])
    assert total(gateway, "outcomes_gateway_hooks_total", result="refused") == len(deliveries)
    assert total(gateway, "outcomes_gateway_hooks_total", result="accepted") == 0
    time.sleep(2)
    series = scrape(app.metrics_url)
    assert total(series, "outcomes_collector_events_total") == 0
