"""`outcomes demo`: embedded broker + collector + a simulated fleet + a live portfolio view."""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from kafka import KafkaProducer
from kafka.errors import KafkaError
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from collector.app import CollectorApp
from collector.config import Settings
from collector.embedded import free_port
from collector.engine.periods import PeriodKind, period_containing
from collector.runtime import utc_now
from outcomes.demo.agents import AgentFleet
from outcomes.demo.fleet import FleetSimulator
from outcomes.demo.hooks import ToolFleet, send_deliveries, write_integrations
from outcomes.gateway.app import GatewaySettings
from outcomes.gateway.server import ThreadedServer, build_server
from outcomes.gateway.tokens import digest
from outcomes.report.words import attainment_text, roi_text
from schemas.binding import to_binary
from schemas.envelope import OutcomeEvent
from schemas.snapshot import ProjectSnapshot, Snapshot

DEMO_SESSION_TIMEOUT_MS = 6_000
AGENT_INTERVAL_S = 30.0
EXAMPLE_PROJECTS = Path(__file__).resolve().parents[2] / "deploy" / "examples" / "projects"
STATUS_STYLES = {
    "met": "bold green",
    "at_risk": "bold yellow",
    "off_target": "bold red",
    "insufficient_data": "dim",
    "unscoped": "magenta",
}


def _listen_or_free(listen: str) -> str:
    host, _, port = listen.rpartition(":")
    try:
        with socket.socket() as probe:
            probe.bind((host, int(port)))
        return listen
    except OSError:
        return f"{host}:{free_port(host)}"


def _send(producer: KafkaProducer, topic: str, event: OutcomeEvent) -> None:
    record = to_binary(event)
    producer.send(topic, key=record.key, value=record.value, headers=record.headers)


def _produce(
    app: CollectorApp, rate: float, stop: threading.Event, simulator: FleetSimulator
) -> None:
    producer = KafkaProducer(bootstrap_servers=app.bootstrap_servers, linger_ms=20, acks="all")
    now = utc_now()
    month = period_containing(now, PeriodKind.MONTH)
    quarter = period_containing(now, PeriodKind.QUARTER)
    history = simulator.history(month.start, quarter.start)
    for event in [*history, *simulator.backfill(month.start, quarter.start)]:
        _send(producer, app.settings.topic, event)
    producer.flush()
    interval_s, next_at, sent = 1.0 / rate, time.monotonic(), 0
    while not stop.is_set():
        _send(producer, app.settings.topic, simulator.next_event())
        sent += 1
        if sent % 500 == 0:  # now and then a broken producer: it lands in the DLQ
            producer.send(app.settings.topic, key=b"ticket-triage", value=b"{not json")
        next_at += interval_s
        stop.wait(max(0.0, next_at - time.monotonic()))
    with contextlib.suppress(KafkaError):  # shutting down: unsent simulated events don't matter
        producer.close(timeout=5)


def _targets(project: ProjectSnapshot) -> Text:
    text = Text()
    for target in project.targets:
        shown = attainment_text(target.attainment)
        text.append(f"{target.target} {shown}  ", style=STATUS_STYLES.get(target.status, ""))
    return text or Text("no objectives", style="dim")


def _age(snapshot: Snapshot, project: ProjectSnapshot) -> str:
    received = project.last_received_s or project.last_event_time_s
    if received is None:
        return "never"
    hours = (snapshot.taken_at_s - received) / 3600
    return "now" if hours < 0.1 else f"{hours:,.0f} h ago"


WIDE = 110
"""Below this many columns the live view leaves out team, cost and the last event's age."""


def render(snapshot: Snapshot | None, metrics_url: str, width: int = WIDE) -> Group:
    wide = width >= WIDE
    columns = (
        ["project", "team", "status", "value", "cost", "ROI", "targets (attainment)", "last event"]
        if wide
        else ["project", "status", "value", "ROI", "targets"]
    )
    table = Table(expand=True, title="Automation portfolio — current period")
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in ("value", "cost", "ROI") else "left",
            overflow="fold",
        )
    header = Text("waiting for the collector…", style="dim")
    if snapshot is not None:
        for project in snapshot.projects:
            p = project.period
            cells: dict[str, str | Text] = {
                "project": project.name,
                "team": project.info.team,
                "status": Text(project.status, style=STATUS_STYLES.get(project.status, "")),
                "value": f"{p.value:,.0f}",
                "cost": f"{p.cost:,.0f}",
                "ROI": roi_text(p.roi),
                "targets (attainment)": _targets(project),
                "targets": _targets(project),
                "last event": _age(snapshot, project),
            }
            table.add_row(*(cells[column] for column in columns))
        header = _header(snapshot)
    footer = Text(f"metrics: {metrics_url}\nCtrl-C stops everything", style="dim")
    if snapshot is None:
        return Group(header, table, footer)
    return Group(header, table, _ai_line(snapshot), footer)


def _ai_line(snapshot: Snapshot) -> Text:
    """Each AI project's model-call cost this period against its value."""
    text = Text("AI cost this period: ", style="bold")
    shown = 0
    for project in snapshot.projects:
        p = project.period
        if not p.ai_calls:
            continue
        outrun = p.ai_cost > p.value
        text.append(f"{'  ' if shown else ''}{project.name} {p.ai_cost:,.2f}")
        text.append(f" (value {p.value:,.0f})", style="red" if outrun else "dim")
        shown += 1
    return text if shown else Text("")


def _header(snapshot: Snapshot) -> Text:
    counts = dict(snapshot.portfolio.projects)
    ratio = snapshot.portfolio.meeting_objectives_ratio
    text = Text("meeting objectives: ", style="bold")
    text.append("—" if ratio is None else f"{ratio:.0%}", style="bold cyan")
    for status, style in STATUS_STYLES.items():
        text.append(f"   {status} {counts.get(status, 0)}", style=style)
    accepted = sum(n for _, r, n in snapshot.health.events if r == "accepted")
    rejected = sum(n for _, n in snapshot.health.rejected)
    text.append(f"\nevents accepted {accepted:,}   dead-lettered {rejected:,}", style="dim")
    return text


def _start_gateway(
    app: CollectorApp, workdir: Path, console: Console, stop: threading.Event
) -> tuple[ThreadedServer, list[threading.Thread]]:
    """The HTTP gateway with the demo's integrations; GitHub/AWX deliveries and the AI
    services' OTLP exports sent to it."""
    integrations = workdir / "integrations"
    secret = write_integrations(integrations)
    token = secrets.token_urlsafe(16)
    tokens = workdir / "tokens.yaml"
    tokens.write_text(f"tokens:\n  - {{name: demo, sha256: {digest(token)}, projects: ['*']}}\n")
    port = free_port()
    settings = GatewaySettings(topic=app.settings.topic, targets=integrations)
    gateway = ThreadedServer(
        build_server(app.bootstrap_servers, tokens, "127.0.0.1", port, settings)
    )
    gateway.start()
    url = f"http://127.0.0.1:{port}"
    console.print(
        f"gateway: {url}/v1/events (bearer token {token})   webhooks from a simulated"
        f" GitHub and AWX: {url}/v1/hooks/github-ci, /v1/hooks/awx ({integrations})"
    )
    fleet = ToolFleet(secret, utc_now)
    hooks = threading.Thread(target=send_deliveries, args=(url, fleet, stop), daemon=True)
    hooks.start()
    agents = threading.Thread(target=_run_agents, args=(url, secret, stop), daemon=True)
    agents.start()
    console.print(
        f"AI agents (OpenTelemetry SDK, OTLP/HTTP): {url}/v1/otlp/ai-agents/v1/traces"
        " — incident-copilot and remediation-planner"
    )
    return gateway, [hooks, agents]


def _run_agents(gateway: str, secret: str, stop: threading.Event) -> None:
    """The simulated AI services: this month so far, then an invocation every 30 s."""
    agents = AgentFleet(f"{gateway}/v1/otlp/ai-agents", secret, utc_now)
    try:
        agents.backfill(period_containing(utc_now(), PeriodKind.MONTH).start)
        while not stop.wait(AGENT_INTERVAL_S):
            agents.live()
    finally:
        agents.shutdown()


def outcomes_command() -> str:
    """How to run `outcomes` from any shell: the script next to this interpreter (a
    virtual environment need not be activated), else this interpreter with `-m`."""
    script = Path(sys.executable).with_name("outcomes")
    return str(script) if script.is_file() else f"{sys.executable} -m outcomes"


def demo_targets(workdir: Path, extra: Path | None) -> Path | None:
    """The sample declarations, plus the user's own (`--targets`): a directory of links to
    each, so the samples' and the user's edits both reload (files added to the user's
    directory later need a restart of the demo)."""
    samples = sorted(EXAMPLE_PROJECTS.glob("*.yaml")) if EXAMPLE_PROJECTS.is_dir() else []
    if extra is None:
        return EXAMPLE_PROJECTS if samples else None
    directory = workdir / "targets"
    directory.mkdir()
    for path in samples:
        (directory / f"sample-{path.name}").symlink_to(path)
    for path in sorted(p for p in extra.rglob("*") if p.suffix in (".yaml", ".yml")):
        link = directory / ("yours-" + "-".join(path.relative_to(extra).parts))
        link.symlink_to(path.resolve())
    return directory


def run_demo(
    listen: str,
    rate: float,
    duration_s: float | None,
    state: str | None,
    targets: Path | None = None,
) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="outcomes-demo-"))
    try:
        return _run(workdir, listen, rate, duration_s, state=state, targets=targets)
    finally:  # the temporary state, tokens and secrets go with the demo (Ctrl-C, SIGTERM)
        shutil.rmtree(workdir, ignore_errors=True)


def _run(
    workdir: Path,
    listen: str,
    rate: float,
    duration_s: float | None,
    *,
    state: str | None,
    targets: Path | None,
) -> int:
    console = Console()
    settings = Settings(
        embedded_broker=True,
        listen=_listen_or_free(listen),
        state=state or str(workdir / "state.db"),
        group_id="outcomes-demo",
        partitions=3,
        session_timeout_ms=DEMO_SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=1_000,
        targets=demo_targets(workdir, targets),
    )
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # the live view is the output
    console.print("[bold]outcomes demo[/]: embedded broker, collector and a simulated fleet…")
    app = CollectorApp(settings)
    app.start()
    command = outcomes_command()
    kept = "kept after the demo" if state else "removed when the demo stops; --state FILE keeps it"
    console.print(f"metrics: {app.metrics_url}   declarations: {settings.targets}")
    console.print(f"broker: {app.bootstrap_servers} (embedded)   topic: {settings.topic}")
    console.print(f"state: {settings.state} ({kept})", soft_wrap=True)
    console.print(
        f"send your own, e.g.: {command} emit run --bootstrap-servers"
        f" {app.bootstrap_servers} --project disk-cleanup --automation sweep"
        " --outcome succeeded --manual-duration-s 600",
        soft_wrap=True,
    )
    console.print(
        f"a report, while it runs: {command} report --state {settings.state}"
        + (f" --targets {settings.targets}" if settings.targets else ""),
        soft_wrap=True,
    )
    stop = threading.Event()
    simulator = FleetSimulator(utc_now)
    producer = threading.Thread(target=_produce, args=(app, rate, stop, simulator), daemon=True)
    producer.start()
    gateway, senders = _start_gateway(app, workdir, console, stop)
    deadline = None if duration_s is None else time.monotonic() + duration_s
    ended = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: ended.set())  # stop like Ctrl-C
    try:
        with Live(render(None, app.metrics_url, console.width), console=console,
                  refresh_per_second=2) as live:  # fmt: skip
            while not ended.is_set() and (deadline is None or time.monotonic() < deadline):
                live.update(render(app.latest.get(), app.metrics_url, console.width))
                ended.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        producer.join(10)
        for sender in senders:
            sender.join(15)
        gateway.stop()
        app.stop()
    console.print()
    console.print("stopped: simulated producers, gateway, collector and embedded broker are down.")
    return 0
