"""Uptime from incidents on a live collector (both brokers): Alertmanager (a repeated firing
alert, a notification mixing firing and resolved), PagerDuty (a rotated-key signature, a
redelivery) and CDEvents through the gateway's hooks, and one incident through
`outcomes emit`. Exact incident counts, open incidents, downtime from the incidents' own
start and end, uptime = 1 − union / period so far (an open incident up to now), status."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from collector.app import CollectorApp
from collector.engine.periods import PeriodKind, period_containing
from tests.support.brokers import Broker
from tests.support.gateway import hook_gateway
from tests.support.live import (
    consume_all,
    counted,
    http_get,
    parse_series,
    scrape,
    total,
    value,
    wait_until,
)

PAYLOADS = Path(__file__).parents[1] / "unit" / "collector" / "integrations" / "payloads"
NOW = datetime.now(UTC).replace(microsecond=0)
OLD_KEY, NEW_KEY, AM_TOKEN, CDE_TOKEN = "pd-old", "pd-new", "am-s3cret", "cde-s3cret"
SERVICES = ("checkout-api", "checkout-web", "pd-api", "myapp")

DECLARATIONS = """\
apiVersion: outcomes/v1
kind: Project
metadata: {name: checkout}
spec:
  owner: shop-sre
  stageSince: 2026-01-01          # known before this month: observed from the month's start
  services: [checkout-api, checkout-web, pd-api, myapp]
  uptimeFrom: incidents
  objectives: {uptime: 0.999}
  guards: {minObservedHours: 0}
---
apiVersion: outcomes/v1
kind: Integration
metadata: {name: alertmanager}
spec:
  type: alertmanager
  secret: {env: TEST_AM_TOKEN}
  rules:
    - match: {labels.service: "checkout-*"}
      project: checkout
      service: "{labels.service}"
---
apiVersion: outcomes/v1
kind: Integration
metadata: {name: pagerduty}
spec:
  type: pagerduty
  secret: {env: TEST_PD_KEY}
  rules:
    - match: {service: "API Service"}
      project: checkout
      service: pd-api
---
apiVersion: outcomes/v1
kind: Integration
metadata: {name: cdevents}
spec:
  type: cdevents
  secret: {env: TEST_CDE_TOKEN}
  rules:
    - match: {service: myapp}
      project: checkout
      service: "{service}"
"""


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def stamp(minutes: float) -> str:
    return ago(minutes).isoformat().replace("+00:00", "Z")


@pytest.fixture
def targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "targets"
    directory.mkdir()
    (directory / "checkout.yaml").write_text(DECLARATIONS)
    for name, secret in (("AM_TOKEN", AM_TOKEN), ("PD_KEY", NEW_KEY), ("CDE_TOKEN", CDE_TOKEN)):
        monkeypatch.setenv(f"TEST_{name}", secret)
    return directory


@pytest.fixture
def hooks(broker: Broker, topic: str, tmp_path: Path, targets: Path) -> Iterator[str]:
    with hook_gateway(broker, topic, targets, tmp_path) as url:
        yield f"{url}/v1/hooks"


def post(url: str, document: Any, headers: dict[str, str]) -> tuple[int, Any]:
    body = json.dumps(document).encode()
    if "pagerduty" in url:  # signed with the old and the new key while the key rotates
        signatures = [
            hmac.new(k.encode(), body, hashlib.sha256).hexdigest() for k in (OLD_KEY, NEW_KEY)
        ]
        headers = {**headers, "X-PagerDuty-Signature": ",".join(f"v1={s}" for s in signatures)}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return document


def alertmanager() -> dict[str, Any]:
    """checkout-api firing since 50 minutes ago; checkout-web down from 40 to 30 minutes ago."""
    document = sample("alertmanager-v4-mixed.json")
    firing, resolved, _ = document["alerts"]
    firing["startsAt"] = stamp(50)
    resolved.update(startsAt=stamp(40), endsAt=stamp(30))
    return document


def pagerduty(kind: str, minutes: float, event_id: str) -> dict[str, Any]:
    document = sample(f"pagerduty-incident-{kind}.json")
    document["event"].update(occurred_at=stamp(minutes), id=event_id)
    return document


def cdevent(kind: str, minutes: float) -> dict[str, Any]:
    document = sample(f"cdevents-incident-{kind}-0.5.json")
    document["context"]["timestamp"] = stamp(minutes)
    return document


def emit(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "outcomes", "emit", *args],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_incidents_from_every_source_make_exact_live_uptime(
    broker: Broker, topic: str, targets: Path, hooks: str,
    start_collector: Callable[..., CollectorApp],
) -> None:  # fmt: skip
    app = start_collector(targets=targets)
    bearer = {"Content-Type": "application/json"}
    am = {**bearer, "Authorization": f"Bearer {AM_TOKEN}"}
    assert post(f"{hooks}/alertmanager", alertmanager(), am) == (
        202,
        {"result": "accepted", "events": 2},
    )
    assert (
        post(f"{hooks}/alertmanager", alertmanager(), am)[0] == 202
    )  # repeat_interval: same events
    for document in (
        pagerduty("triggered", 45, "pd-1"),
        pagerduty("resolved", 20, "pd-2"),
        pagerduty("resolved", 20, "pd-2"),
    ):  # the last: PagerDuty's redelivery
        assert post(f"{hooks}/pagerduty", document, bearer) == (
            202,
            {"result": "accepted", "events": 1},
        )
    acknowledged = pagerduty("triggered", 44, "pd-3")
    acknowledged["event"]["event_type"] = "incident.acknowledged"
    assert post(f"{hooks}/pagerduty", acknowledged, bearer)[1]["result"] == "ignored"
    # a shared receiver: another team's alert is answered, counted and kept nowhere
    foreign = alertmanager()
    for alert in foreign["alerts"]:
        alert["labels"]["service"] = "billing-db"
    code, answer = post(f"{hooks}/alertmanager", foreign, am)
    assert (code, answer["result"], answer["events"]) == (202, "unmatched", 0)
    assert "another team's" in answer["detail"]
    cde = {**bearer, "Authorization": f"Bearer {CDE_TOKEN}"}
    for document in (cdevent("detected", 35), cdevent("resolved", 25)):
        assert post(f"{hooks}/cdevents", document, cde)[0] == 202
    common = ["--bootstrap-servers", broker.bootstrap_servers, "--topic", topic, "--project",
              "checkout", "--service", "checkout-web", "--incident", "deploy-7"]  # fmt: skip
    emit("incident-opened", *common, "--time", stamp(35), "--title", "bad deploy")
    emit("incident-resolved", *common, "--time", stamp(15), "--resolved-by", "automation")
    sent = 2 * 2 + 3 + 2 + 2  # the gateway answered for every event it produced
    wait_until(counted(app.metrics_url, sent))
    gateway = parse_series(http_get(f"{hooks.rsplit('/v1/', 1)[0]}/metrics")[1])
    assert value(gateway, "outcomes_gateway_hooks_total", integration="alertmanager",
                 result="unmatched") == 1  # fmt: skip
    assert value(gateway, "outcomes_gateway_hooks_total", integration="alertmanager",
                 result="unmapped") is None  # fmt: skip
    assert consume_all(broker.bootstrap_servers, f"{topic}.dlq", 1, timeout_s=3) == []
    before = time.time() - 6  # the snapshot may be up to `refresh_s` (5 s) old
    series = scrape(app.metrics_url)
    after = time.time()

    assert total(series, "outcomes_collector_events_total", result="duplicate") == 3
    assert total(series, "outcomes_collector_events_total", result="accepted") == sent - 3
    incidents = {s: (value(series, "outcomes_incidents_open", project="checkout", service=s),
                     value(series, "outcomes_incidents_total", project="checkout", service=s))
                 for s in SERVICES}  # fmt: skip
    assert incidents == {
        "checkout-api": (1, 0),
        "checkout-web": (0, 2),
        "pd-api": (0, 1),
        "myapp": (0, 1),
    }

    # downtime: each service's incidents, merged, from their own start and end
    start = period_containing(NOW, PeriodKind.MONTH).start
    closed = {"checkout-web": [(40, 15)], "pd-api": [(45, 20)], "myapp": [(35, 25)]}  # merged

    def uptime_at(moment: float) -> Fraction:
        low, high = start.timestamp(), moment
        down = Fraction(max(0.0, high - max(low, ago(50).timestamp())))  # open: up to now
        for spans in closed.values():
            for first, last in spans:
                down += Fraction(
                    max(0.0, min(high, ago(last).timestamp()) - max(low, ago(first).timestamp()))
                )
        return 1 - down / (len(SERVICES) * Fraction(high - low))

    if ago(50) >= start:  # no incident reaches back into the previous month
        for service, minutes in (("checkout-web", 25), ("pd-api", 25), ("myapp", 10)):
            downtime = value(
                series, "outcomes_period_downtime_seconds", project="checkout", service=service
            )
            assert downtime == minutes * 60, service
        open_down = value(
            series, "outcomes_period_downtime_seconds", project="checkout", service="checkout-api"
        )
        assert (
            open_down is not None
            and before - ago(50).timestamp() <= open_down <= after - ago(50).timestamp()
        )
    got = value(series, "outcomes_period_uptime_ratio", project="checkout")
    assert got is not None and float(uptime_at(after)) <= got <= float(uptime_at(before))
    attainment = min(10.0, (1 - 0.999) / (1 - got))
    status = "met" if attainment >= 1 else "at_risk" if attainment >= 0.8 else "off_target"
    assert (
        value(series, "outcomes_target_status", project="checkout", target="uptime", status=status)
        == 1
    )
    # live: the open incident keeps pulling uptime down
    wait_until(
        lambda: (
            (
                value(scrape(app.metrics_url), "outcomes_period_uptime_ratio", project="checkout")
                or 1
            )
            < got
        )
    )

    # the report lists the period's incidents with their own start and end
    report = subprocess.run(
        [sys.executable, "-m", "outcomes", "report", "--state", app.settings.state,
         "--targets", str(targets), "--format", "json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    (row,) = [r for r in json.loads(report.stdout)["projects"] if r["project"] == "checkout"]
    listed = {(i["service"], i["started"], i["ended"]) for i in row["incidents"]}
    assert listed == {
        ("checkout-api", stamp(50), None), ("checkout-web", stamp(40), stamp(30)),
        ("checkout-web", stamp(35), stamp(15)), ("pd-api", stamp(45), stamp(20)),
        ("myapp", stamp(35), stamp(25)),
    }  # fmt: skip
    table = subprocess.run(
        [sys.executable, "-m", "outcomes", "report", "--state", app.settings.state,
         "--targets", str(targets)],
        capture_output=True, text=True, timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert "Incidents" in table.stdout and "bad deploy" in table.stdout, table.stdout
