"""A real Prometheus scrapes a live collector fed with the demo's fleet: every dashboard
panel query returns data, and ProjectOffTarget fires exactly for the off-target project."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaProducer

from collector.app import CollectorApp
from collector.embedded import free_port
from collector.engine.periods import PeriodKind, period_containing
from collector.runtime import utc_now
from outcomes.demo.agents import AgentFleet
from outcomes.demo.fleet import FleetSimulator
from outcomes.demo.hooks import ToolFleet, post, write_integrations
from outcomes.demo.run import EXAMPLE_PROJECTS
from outcomes.gateway.app import GatewaySettings
from outcomes.gateway.server import ThreadedServer, build_server
from outcomes.gateway.tokens import digest
from schemas.binding import to_binary
from tests.integration.conftest import collector_settings
from tests.support.brokers import Broker
from tests.support.live import http_get, wait_until
from tests.support.tools import DEPLOY, tool

VARIABLES = {
    "$__rate_interval": "1m",
    "$__range": "5m",
    "$team": "sre",
    "$project": "incident-autoremediation",
    "$currency": "USD",
    "${currency}": "USD",
}


def story_clock() -> Callable[[], datetime]:
    """Wall-clock time moved back to the 20th of a month at most (the previous month's
    before the 20th). The simulated fleet tells its story once part of a period is behind
    it: in a period's first hours its few events can swing young projects' statuses (ROI
    has no elapsed-time guard, docs/REFERENCE.md#formulas), and the alert check below would depend on the
    date the tests run."""
    real = utc_now()
    story = real if real.day >= 20 else (real.replace(day=1) - timedelta(days=1)).replace(day=20)
    shift = real - story
    return lambda: utc_now() - shift


def feed(app: CollectorApp, stop: threading.Event) -> None:
    simulator = FleetSimulator(app.clock)
    producer = KafkaProducer(bootstrap_servers=app.bootstrap_servers, linger_ms=5)
    now = app.clock()
    month, quarter = (
        period_containing(now, PeriodKind.MONTH),
        period_containing(now, PeriodKind.QUARTER),
    )
    history = simulator.history(month.start, quarter.start)
    events = simulator.backfill(month.start, quarter.start)
    for event in [*history, *events]:
        record = to_binary(event)
        producer.send(
            app.settings.topic, key=record.key, value=record.value, headers=record.headers
        )
    producer.send(app.settings.topic, key=b"ticket-triage", value=b"{broken producer")
    while not stop.wait(0.05):  # the live trickle keeps rates and delays moving
        record = to_binary(simulator.next_event())
        producer.send(
            app.settings.topic, key=record.key, value=record.value, headers=record.headers
        )
    producer.close(timeout=5)


def start_gateway(
    broker: Broker, topic: str, directory: Path, app: CollectorApp
) -> tuple[ThreadedServer, ThreadedServer, AgentFleet]:
    """The gateway with the demo's integrations, after a few of the demo tools' webhooks:
    its /metrics feeds the collector board's webhook panel. A second one, on the
    collector's topic and clock, takes the demo's AI services' OTLP exports (this period so
    far; the caller keeps them going)."""
    integrations = directory / "integrations"
    secret = write_integrations(integrations)
    tokens = directory / "tokens.yaml"
    tokens.write_text(f"tokens:\n  - {{name: t, sha256: {digest('t')}, projects: ['*']}}\n")
    hooks_topic = f"{topic}-hooks"  # the collector under test does not consume these runs
    broker.create_topics({hooks_topic: 1, f"{hooks_topic}.dlq": 1})
    settings = GatewaySettings(topic=hooks_topic, targets=integrations)
    server = ThreadedServer(
        build_server(broker.bootstrap_servers, tokens, "127.0.0.1", free_port(), settings)
    )
    server.start()
    fleet = ToolFleet(secret, utc_now)
    for _ in range(5):
        assert post(f"http://127.0.0.1:{server.server.config.port}", fleet.next())["result"] in (
            "accepted",
            "unmapped",
        )
    ai_settings = GatewaySettings(topic=topic, targets=integrations, clock=app.clock)
    ai_gateway = ThreadedServer(
        build_server(broker.bootstrap_servers, tokens, "127.0.0.1", free_port(), ai_settings)
    )
    ai_gateway.start()
    endpoint = f"http://127.0.0.1:{ai_gateway.server.config.port}/v1/otlp/ai-agents"
    agents = AgentFleet(endpoint, secret, app.clock)
    agents.backfill(period_containing(app.clock(), PeriodKind.MONTH).start)
    assert agents.flush()
    return server, ai_gateway, agents


def prometheus_config(directory: Path, collector_port: int, gateway_port: int) -> Path:
    rules = []
    for name in ("outcomes-recording.yml", "outcomes-alerts.yml"):
        text = (DEPLOY / "prometheus" / "rules" / name).read_text()
        # `for:` and `keep_firing_for:` are proven by promtool's unit tests; here the alert
        # logic runs on live data without waiting an hour
        text = re.sub(r"\n\s+keep_firing_for: \S+", "", re.sub(r"for: \S+", "for: 0s", text))
        (directory / name).write_text(text)
        rules.append(str(directory / name))
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = rules
    config.pop("alerting")
    collector, gateway = config["scrape_configs"]
    collector["static_configs"] = [{"targets": [f"127.0.0.1:{collector_port}"]}]
    gateway["static_configs"] = [{"targets": [f"127.0.0.1:{gateway_port}"]}]
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def prometheus(tmp_path: Path, broker: Broker, topic: str) -> Iterator[tuple[str, CollectorApp]]:
    settings = collector_settings(broker, topic, tmp_path / "state.db", targets=EXAMPLE_PROJECTS)
    app = CollectorApp(settings, clock=story_clock())
    app.start()
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=(app, stop), daemon=True)
    feeder.start()
    port = free_port()
    gateway, ai_gateway, agents = start_gateway(broker, topic, tmp_path, app)

    def keep_calling_models() -> None:
        while not stop.wait(2.0):
            agents.live()

    live_agents = threading.Thread(target=keep_calling_models, daemon=True)
    live_agents.start()
    collector_port = int(app.metrics_url.split(":")[2].split("/")[0])
    config = prometheus_config(tmp_path, collector_port, gateway.server.config.port)
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [tool("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_get(f"{base}/-/ready")[0] == 200, timeout_s=60)
        yield base, app
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        stop.set()
        feeder.join(10)
        live_agents.join(10)
        agents.shutdown()
        ai_gateway.stop()
        gateway.stop()
        app.stop()


def instant(base: str, expr: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == "success", body
    result = body["data"]["result"]
    return result if isinstance(result, list) else [result]


def panel_queries() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                for name, value in VARIABLES.items():
                    expr = expr.replace(name, value)
                found.append((path.stem, panel["title"], expr))
    return found


def test_every_panel_has_data_and_off_target_alert_fires(
    prometheus: tuple[str, CollectorApp],
) -> None:
    base, _ = prometheus
    queries = panel_queries()
    assert len(queries) > 30

    def empty() -> list[str] | None:
        missing = [
            f"{board} / {title}: {expr}"
            for board, title, expr in queries
            if not instant(base, expr)
        ]
        return missing or None

    deadline = time.monotonic() + 120
    missing = empty()
    while missing and time.monotonic() < deadline:
        time.sleep(2)
        missing = empty()
    assert not missing, "panels without data:\n" + "\n".join(missing)

    for variable, selector in (
        ("team", "outcomes_project_info"),
        ("project", 'outcomes_project_info{team=~"sre"}'),
    ):
        values = {series["metric"][variable] for series in instant(base, selector)}
        assert values, variable

    firing = wait_until(
        lambda: (
            {
                a["metric"]["project"]
                for a in instant(base, 'ALERTS{alertname="ProjectOffTarget",alertstate="firing"}')
            }
            or None
        ),
        timeout_s=60,
    )
    assert "patch-rollout" in firing
    assert "ticket-triage" not in firing and "cost-optimizer" not in firing
    off = instant(base, 'ALERTS{alertname="ProjectOffTarget",project="patch-rollout"}')[0]["metric"]
    assert (off["team"], off["severity"]) == ("platform", "warning")
