"""The edge cases where a number could mislead a leader, on a live collector (both brokers):
a declared service kept out of `other`, a mistimed availability event refused, cancelled
runs deciding nothing, a day-one licence cost not judging roi, a dated hourly rate, windows
re-sent and nested counted once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from collector.app import CollectorApp
from schemas.binding import STRUCTURED_CONTENT_TYPE, KafkaRecord, format_time
from tests.support.brokers import Broker
from tests.support.live import counted, produce, scrape, total, value, wait_until

DECLARATIONS = """\
apiVersion: outcomes/v1
kind: Project
metadata: {{name: desk}}
spec:
  owner: itsm-sre
  services: [servicedesk-api]
  hourlyRate: [{{since: {before}, value: 100}}, {{since: {change}, value: 400}}]
  objectives: {{uptime: 0.99, successRate: 0.95, roi: 0.5}}
  guards: {{minRuns: 20, minObservedHours: 0.5, minElapsed: 1}}
"""


def event(number: int, event_type: str, time: datetime, **data: Any) -> KafkaRecord:
    document = {"specversion": "1.0", "id": f"n-{number}", "source": "tests/numbers",
                "type": f"outcomes.{event_type}", "time": format_time(time),
                "data": {"project": "desk", **data}}  # fmt: skip
    return KafkaRecord(
        b"desk", [("content-type", STRUCTURED_CONTENT_TYPE.encode())], json.dumps(document).encode()
    )


def run(number: int, time: datetime, outcome: str, manual_s: float = 0.0) -> KafkaRecord:
    return event(number, "run.finished", time, automation="triage", outcome=outcome,
                 manual_duration_s=manual_s, human_effort_s=0.0, cost=0.0)  # fmt: skip


def window(number: int, end: datetime, minutes: int, service: str, down_s: float,
           time: datetime | None = None) -> KafkaRecord:  # fmt: skip
    return event(number, "availability.observed", time or end, service=service,
                 window_start=format_time(end - timedelta(minutes=minutes)),
                 window_end=format_time(end), downtime_s=down_s)  # fmt: skip


def test_numbers_leaders_can_trust(
    broker: Broker, topic: str, tmp_path: Path, start_collector: Callable[..., CollectorApp]
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    change = (now - timedelta(days=1)).date()  # 400 an hour from yesterday 00:00 UTC on
    midnight = datetime(change.year, change.month, change.day, tzinfo=UTC)
    projects = tmp_path / "projects"
    projects.mkdir()
    (projects / "desk.yaml").write_text(
        DECLARATIONS.format(before=change - timedelta(days=30), change=change)
    )
    app = start_collector(targets=projects, max_services_per_project=1)
    hour = now - timedelta(hours=2)
    records = [
        # an undeclared service takes the only slot first; the declared one keeps its own
        window(1, hour - timedelta(hours=1), 60, "cache", 600.0),
        window(2, hour, 60, "servicedesk-api", 36.0),
        window(3, hour - timedelta(minutes=10), 30, "servicedesk-api", 0.0),  # nested
        window(4, hour, 60, "servicedesk-api", 18.0),  # the same hour re-sent: replaces
        window(5, hour, 60, "queue", 0.0),
        window(6, hour, 60, "servicedesk-api", 0.0, time=now),  # time != window end
        *(run(10 + i, now - timedelta(minutes=5), "cancelled") for i in range(19)),
        run(30, now - timedelta(minutes=5), "failed"),
        event(31, "cost.incurred", now - timedelta(minutes=5), amount=5000.0, category="licence"),
        run(32, midnight - timedelta(minutes=30), "succeeded", manual_s=1800.0),  # 0.5 h × 100
        run(33, midnight + timedelta(minutes=30), "succeeded", manual_s=1800.0),  # 0.5 h × 400
    ]
    sent = produce(broker.bootstrap_servers, topic, records)
    wait_until(counted(app.metrics_url, sent))
    series = scrape(app.metrics_url)

    def target(name: str, status: str) -> float | None:
        return value(series, "outcomes_target_status", project="desk", target=name, status=status)

    assert value(series, "outcomes_collector_rejected_total", reason="invalid") == 1
    # D3: the declared service keeps its series; uptime counts it alone, windows once
    downtime = {
        dict(labels)["service"]: v
        for (name, labels), v in series.items()
        if name == "outcomes_observed_seconds_total"
    }
    assert downtime == {"cache": 3600.0, "servicedesk-api": 3600.0, "other": 3600.0}
    if (hour - timedelta(hours=2)).month == now.month:  # not split by a month start
        assert value(series, "outcomes_period_uptime_ratio", project="desk") == 1 - 18 / 3600
        assert target("uptime", "met") == 1
    # A2: 19 cancelled + 1 failed is one decided run: no judgement, no attainment
    assert target("success_rate", "insufficient_data") == 1
    assert value(series, "outcomes_target_objective", project="desk", target="success_rate") == 0.95
    assert (
        value(series, "outcomes_target_attainment_ratio", project="desk", target="success_rate")
        is None
    )
    # A4: a licence booked early in the period does not judge roi
    assert target("roi", "insufficient_data") == 1
    # A5: each run at the rate of its day, lifetime included; the rate in force exported
    assert value(series, "outcomes_project_lifetime_value", project="desk", currency="USD") == 250.0
    assert value(series, "outcomes_project_hourly_rate", project="desk", currency="USD") == 400.0
    assert total(series, "outcomes_collector_events_total", result="accepted") == sent - 1
