"""`outcomes demo` under SIGTERM: every part stops, it says so, and nothing is left behind;
it tells the user where its broker is; its live view fits an 80-column terminal."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from collector.embedded import free_port
from tests.support.live import http_get, wait_until


def listening(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace"
                ):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_sigterm_stops_everything_and_the_view_fits_80_columns(tmp_path: Path) -> None:
    """Also: every line it prints to paste works in a fresh shell (the absolute path of
    `outcomes`), it names its state, and it leaves no temporary directory behind."""
    port = free_port()
    log = tmp_path / "demo.out"
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    with log.open("w") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "outcomes", "demo", "--listen", f"127.0.0.1:{port}", "--rate", "20"],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    try:
        wait_until(lambda: "a report, while it runs" in log.read_text(), timeout_s=120)
        text = log.read_text()
        broker = re.search(r"broker: (\S+) \(embedded\)", text)
        assert broker is not None, text
        assert f"--bootstrap-servers {broker.group(1)} --project" in text  # ready to paste
        state = re.search(r"state: (\S+) \(removed when the demo stops", text)
        assert state is not None, text
        workdir = Path(state.group(1)).parent
        assert workdir.is_dir()
        pasted = re.search(r"send your own, e\.g\.: (.+)$", text, re.M)
        assert pasted is not None
        sent = subprocess.run(
            pasted.group(1),
            shell=True,
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin"},
        )  # a fresh shell
        assert sent.returncode == 0 and sent.stdout.startswith("sent "), sent.stderr
        report = re.search(r"a report, while it runs: (.+)$", text, re.M)
        assert report is not None
        shown = subprocess.run(report.group(1) + " --format json", shell=True,
                               capture_output=True, text=True, timeout=60,
                               env={"PATH": "/usr/bin:/bin"})  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert listening(broker.group(1))
        wait_until(lambda: http_get(f"http://127.0.0.1:{port}/metrics")[0] == 200, timeout_s=60)
        time.sleep(2)  # the live view has drawn
        broker_port = broker.group(1).rsplit(":", 1)[1]
        assert processes_mentioning(f"127.0.0.1:{broker_port}"), "the embedded broker runs"
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(60) == 0
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    text = log.read_text()
    assert "stopped: simulated producers, gateway, collector and embedded broker are down." in text
    assert not listening(broker.group(1))
    assert not workdir.exists(), "the temporary state, tokens and secrets are removed"
    assert processes_mentioning(f"127.0.0.1:{broker_port}") == []
    table = [line for line in text.splitlines() if line[:1] in "│┃┏┡└╭╰┗"]
    assert table, text
    assert max(len(line) for line in table) <= 80
