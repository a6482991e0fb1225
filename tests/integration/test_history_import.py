"""History from three months ago, as a user imports it (`outcomes emit --file`), into a
live collector on both brokers: refused by line number without `--backfill`, counted in
its closed month exactly with it (`outcomes report` restated and marked), and a second
import changes nothing."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from collector.app import CollectorApp
from schemas.binding import format_time
from tests.integration.test_producers import outcomes
from tests.support.brokers import Broker
from tests.support.live import counted, scrape, total, wait_until

DECLARATION = """\
apiVersion: outcomes/v1
kind: Project
metadata: {name: history}
spec:
  owner: itsm-sre
  hourlyRate: 90
  objectives: {savings: 1000, roi: 0}
"""


def _history(month_start: datetime, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """A CSV of runs, costs and savings spread over one month (no ids: derived from each
    line), and what the month must show."""
    lines = ["type,time,project,automation,outcome,duration_s,manual_duration_s,"
             "human_effort_s,cost,amount,category,basis"]  # fmt: skip
    runs = {"succeeded": 0, "failed": 0, "cancelled": 0}
    saved_s = cost_c = savings_c = 0
    for day in range(1, 29):
        moment = format_time(month_start + timedelta(days=day - 1, hours=rng.randrange(24)))
        outcome = rng.choice(["succeeded", "succeeded", "failed", "cancelled"])
        manual, effort, run_cost = (
            rng.randrange(60, 1800),
            rng.choice([0, 0, 120]),
            rng.randrange(0, 90),
        )
        lines.append(f"outcomes.run.finished,{moment},history,nightly,{outcome},3.5,{manual},"
                     f"{effort},{run_cost / 100:.2f},,,")  # fmt: skip
        runs[outcome] += 1
        saved_s += (manual if outcome == "succeeded" else 0) - effort
        cost_c += run_cost
        if day % 7 == 0:
            amount = rng.randrange(1000, 90000)
            lines.append(f"outcomes.savings.realized,{moment},history,,,,,,,{amount / 100:.2f},"
                         "cloud,rightsizing")  # fmt: skip
            savings_c += amount
        if day % 10 == 0:
            amount = rng.randrange(1000, 20000)
            lines.append(f"outcomes.cost.incurred,{moment},history,,,,,,,{amount / 100:.2f},"
                         "licence,")  # fmt: skip
            cost_c += amount
    # two identical lines are two events
    lines.append(lines[1])
    first = lines[1].split(",")
    runs[first[4]] += 1
    saved_s += (int(first[6]) if first[4] == "succeeded" else 0) - int(first[7])
    cost_c += round(float(first[8]) * 100)
    expected = {"runs": runs, "time_saved_s": saved_s, "cost": cost_c / 100,
                "savings": savings_c / 100, "events": len(lines) - 1}  # fmt: skip
    return "\n".join(lines) + "\n", expected


def _report(state: Path, targets: Path, period: str) -> dict[str, Any]:
    result = outcomes("report", "--state", str(state), "--targets", str(targets),
                      "--period", period, "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {row["project"]: row for row in json.loads(result.stdout)["projects"]}
    return dict(rows["history"])


def test_history_from_three_months_ago_is_restated_exactly_once(
    broker: Broker, topic: str, tmp_path: Path, start_collector: Callable[..., CollectorApp]
) -> None:
    now = datetime.now(UTC)
    month_start = (now.replace(day=1) - timedelta(days=80)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    period = f"{month_start:%Y-%m}"
    targets = tmp_path / "projects"
    targets.mkdir()
    (targets / "history.yaml").write_text(DECLARATION)
    text, expected = _history(month_start, random.Random(month_start.month))
    path = tmp_path / "history.csv"
    path.write_text(text)
    app = start_collector(targets=targets)
    common = ("--bootstrap-servers", broker.bootstrap_servers, "--topic", topic,
              "--targets", str(targets))  # fmt: skip

    # without --backfill: nothing is sent, every line refused by number, truthfully counted
    refused = outcomes("emit", "--file", str(path), *common)
    assert refused.returncode == 1
    numbers = [int(line.split(":")[1]) for line in refused.stderr.splitlines()
               if line.startswith(f"{path}:")]  # fmt: skip
    assert numbers == list(range(2, expected["events"] + 2))
    assert "too_late" in refused.stderr and "--backfill" in refused.stderr
    summary = f"0 events sent, {expected['events']} refused ({expected['events']} too_late)"
    assert summary in refused.stderr

    imported = outcomes("emit", "--file", str(path), "--backfill", *common)
    assert imported.returncode == 0, imported.stderr
    assert f"{expected['events']} events sent, 0 refused" in imported.stderr
    wait_until(counted(app.metrics_url, expected["events"]), timeout_s=60)
    row = _report(Path(app.settings.state), targets, period)
    assert row["runs"] == expected["runs"]
    assert row["time_saved_s"] == expected["time_saved_s"]
    assert row["cost"] == expected["cost"]
    assert row["savings"] == expected["savings"]
    value = expected["savings"] + expected["time_saved_s"] / 3600 * 90
    assert abs(row["value"] - value) < 1e-6
    assert (row["closed"], row["restated"], row["backfilled"]) == (True, True, expected["events"])
    table = subprocess.run(
        [sys.executable, "-m", "outcomes", "report", "--state", app.settings.state,
         "--targets", str(targets), "--period", period],
        capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    assert f"history (restated; {expected['events']} from history)" in table.stdout

    again = outcomes("emit", "--file", str(path), "--backfill", *common)
    assert again.returncode == 0, again.stderr

    def duplicates_counted() -> bool:
        series = scrape(app.metrics_url)
        events: int = expected["events"]
        return total(series, "outcomes_collector_events_total", result="duplicate") == events

    wait_until(duplicates_counted, timeout_s=60)
    assert _report(Path(app.settings.state), targets, period) == row
