"""`outcomes collect` as a separate process, for tests that kill or signal it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.brokers import Broker, leave_group_for


def start_collect_process(
    broker: Broker,
    topic: str,
    group_id: str,
    state: str,
    port: int,
    log: Path | None = None,
    bootstrap_servers: str | None = None,
    tree: str | None = None,
    **settings: str,
) -> subprocess.Popen[bytes]:
    """A collector with a short session timeout; `settings` become OUTCOMES_* variables
    (one pipeline unless they give `workers`: "auto" is the collector's default).

    Its output is appended to `log`, or discarded without one. `bootstrap_servers`: another
    listener of `broker` (e.g. its SASL one). `tree`: the directory of a checkout whose
    code runs instead of the installed one (another version's, for benchmarks)."""
    env = {
        **os.environ,
        **({"PYTHONPATH": tree} if tree is not None else {}),
        "OUTCOMES_SESSION_TIMEOUT_MS": "6000",
        "OUTCOMES_HEARTBEAT_INTERVAL_MS": "1000",
        "OUTCOMES_LEAVE_GROUP": leave_group_for(broker),
        "OUTCOMES_WORKERS": "1",
        **{f"OUTCOMES_{name.upper()}": value for name, value in settings.items()},
    }
    command = [
        sys.executable, "-m", "outcomes", "collect", "--bootstrap-servers", bootstrap_servers or broker.bootstrap_servers,
        "--topic", topic, "--group-id", group_id, "--state", state, "--listen", f"127.0.0.1:{port}",
    ]  # fmt: skip
    if log is None:
        return subprocess.Popen(
            command, env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    with log.open("ab") as sink:
        return subprocess.Popen(command, env=env, cwd=tree, stdout=sink, stderr=subprocess.STDOUT)
