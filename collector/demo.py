"""`outcomes demo`: embedded broker + collector + simulated fleet + a live terminal view."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from kafka import KafkaProducer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from collector.app import CollectorApp, utc_now
from collector.config import Settings
from collector.embedded import free_port
from collector.simulate import FleetSimulator
from schemas.binding import to_binary
from schemas.snapshot import Snapshot

DEMO_SESSION_TIMEOUT_MS = 6_000
EXAMPLE_PROJECTS = Path(__file__).resolve().parents[1] / "deploy" / "examples" / "projects"


def _listen_or_free(listen: str) -> str:
    host, _, port = listen.rpartition(":")
    try:
        import socket

        with socket.socket() as probe:
            probe.bind((host, int(port)))
        return listen
    except OSError:
        return f"{host}:{free_port(host)}"


def _produce(app: CollectorApp, rate: float, stop: threading.Event) -> None:
    producer = KafkaProducer(bootstrap_servers=app.bootstrap_servers, linger_ms=20, acks="all")
    simulator = FleetSimulator(utc_now)
    interval_s = 1.0 / rate
    next_at = time.monotonic()
    sent = 0
    while not stop.is_set():
        record = to_binary(simulator.next_event())
        producer.send(
            app.settings.topic, key=record.key, value=record.value, headers=record.headers
        )
        sent += 1
        if sent % 200 == 0:
            producer.send(app.settings.topic, key=b"ticket-triage", value=b"{not json")
        next_at += interval_s
        stop.wait(max(0.0, next_at - time.monotonic()))
    producer.close(timeout=5)


STATUS_STYLES = {"met": "green", "at_risk": "yellow", "off_target": "bold red"}


def _money(value: float) -> str:
    return f"{value:,.0f}"


def render(snapshot: Snapshot | None, metrics_url: str) -> Group:
    table = Table(title="Outcome telemetry — current month", expand=True)
    for column in ("project", "runs", "success", "time saved h", "cost", "savings", "value"):
        table.add_column(column, justify="left" if column == "project" else "right")
    table.add_column("ROI", justify="right")
    table.add_column("uptime", justify="right")
    table.add_column("status")
    if snapshot is not None:
        for project in snapshot.projects:
            p = project.period
            runs = sum(count for _, count in p.runs)
            table.add_row(
                project.name,
                str(runs),
                "—" if p.success_ratio is None else f"{p.success_ratio:.1%}",
                f"{p.time_saved_s / 3600:,.1f}",
                _money(p.cost),
                _money(p.savings),
                _money(p.value),
                Text("—")
                if p.roi is None
                else Text(f"{p.roi:.2f}", style="green" if p.roi >= 0 else "red"),
                "—" if p.uptime is None else f"{p.uptime:.4%}",
                Text(project.status, style=STATUS_STYLES.get(project.status, "")),
            )
    footer = Text(f"metrics: {metrics_url}   (Ctrl-C to stop)", style="dim")
    if snapshot is not None:
        accepted = sum(n for _, r, n in snapshot.health.events if r == "accepted")
        rejected = sum(n for _, n in snapshot.health.rejected)
        meeting = snapshot.portfolio.meeting_objectives_ratio
        share = "—" if meeting is None else f"{meeting:.0%}"
        footer = (
            Text(f"meeting objectives {share}   accepted {accepted}  dead-lettered {rejected}   ")
            + footer
        )
    return Group(table, footer)


def run_demo(listen: str, rate: float, duration_s: float | None, state: str | None) -> int:
    console = Console()
    workdir = Path(tempfile.mkdtemp(prefix="outcomes-demo-"))
    settings = Settings(
        embedded_broker=True,
        listen=_listen_or_free(listen),
        state=state or str(workdir / "state.db"),
        group_id="outcomes-demo",
        partitions=3,
        session_timeout_ms=DEMO_SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=1_000,
        targets=EXAMPLE_PROJECTS if EXAMPLE_PROJECTS.is_dir() else None,
    )
    console.print("[bold]outcomes demo[/]: starting embedded broker and collector…")
    app = CollectorApp(settings)
    app.start()
    console.print(f"metrics: [link={app.metrics_url}]{app.metrics_url}[/link]")
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(app, rate, stop), daemon=True)
    producer.start()
    deadline = None if duration_s is None else time.monotonic() + duration_s
    try:
        with Live(render(None, app.metrics_url), console=console, refresh_per_second=4) as live:
            while deadline is None or time.monotonic() < deadline:
                live.update(render(app.latest.get(), app.metrics_url))
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        producer.join(10)
        app.stop()
    console.print("stopped.")
    return 0
