"""`outcomes collect` as a user runs it: embedded broker, readiness, clean SIGTERM."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
from pathlib import Path

from collector.embedded import free_port
from collector.runtime import engine_build
from tests.support.brokers import Broker
from tests.support.generate import random_document, to_record
from tests.support.live import (
    Series,
    counted,
    http_get,
    produce,
    scrape,
    total,
    wait_until,
)


def test_collect_with_embedded_broker_serves_and_stops_cleanly(tmp_path: Path) -> None:
    """At the defaults (`workers: auto`): ready, counts what is emitted, stops cleanly. Each
    step waits (bounded) for the state it asserts, whatever the speed of process start."""
    port, log = free_port(), tmp_path / "collector.log"
    command = [
        sys.executable, "-m", "outcomes", "collect", "--embedded-broker",
        "--state", str(tmp_path / "state.db"), "--listen", f"127.0.0.1:{port}",
    ]  # fmt: skip
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_get(f"{base}/readyz")[0] == 200, timeout_s=60)
        assert http_get(f"{base}/healthz") == (200, "ok\n")
        series = scrape(f"{base}/metrics")
        assert total(series, "outcomes_collector_build_info") == 1
        engines = [dict(labels) for name, labels in series if name.endswith("engine_info")]
        assert engines == [{"engine": engine_build()}]  # the build of the modules it imports
        broker = re.search(r"embedded broker on (\S+)", log.read_text())
        assert broker is not None, log.read_text()
        emitted = subprocess.run(
            [sys.executable, "-m", "outcomes", "emit", "run", "--bootstrap-servers",
             broker.group(1), "--project", "cli-check", "--automation", "a",
             "--outcome", "succeeded", "--manual-duration-s", "60"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert emitted.returncode == 0, emitted.stderr
        wait_until(counted(f"{base}/metrics", 1), timeout_s=90)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    output = log.read_text()
    assert process.returncode == 0, output
    assert "metrics at http://127.0.0.1" in output
    assert "ingestion stopped cleanly" in output
    assert f"({engine_build()} engine)" in output


def test_bad_config_exits_2_with_the_file_named(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("grace: soon\n")
    result = subprocess.run(
        [sys.executable, "-m", "outcomes", "collect", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert f"{config}: grace:" in result.stderr


def test_sigterm_mid_stream_commits_what_was_applied(
    broker: Broker, topic: str, tmp_path: Path
) -> None:
    port, state = free_port(), tmp_path / "state.db"
    command = [
        sys.executable, "-m", "outcomes", "collect",
        "--bootstrap-servers", broker.bootstrap_servers, "--topic", topic,
        "--group-id", f"{topic}-g", "--state", str(state), "--listen", f"127.0.0.1:{port}",
    ]  # fmt: skip
    env = {"OUTCOMES_SESSION_TIMEOUT_MS": "6000", "OUTCOMES_HEARTBEAT_INTERVAL_MS": "1000"}
    import os

    rng = random.Random(8)
    records = [to_record(random_document(rng, i), rng) for i in range(200)]
    produce(broker.bootstrap_servers, topic, records)
    url = f"http://127.0.0.1:{port}/metrics"

    def all_counted() -> Series | None:
        series = scrape(url) if http_get(url)[0] == 200 else {}
        return series if total(series, "outcomes_collector_events_total") >= 200 else None

    for _ in range(2):  # the second run restarts from the committed state and offsets
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
        try:
            series = wait_until(all_counted, timeout_s=60)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        assert total(series, "outcomes_collector_events_total", result="accepted") == 200
        assert total(series, "outcomes_collector_events_total", result="duplicate") == 0
