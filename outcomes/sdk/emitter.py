"""The producer SDK: instrument an automation in a few lines.

    from outcomes.sdk import Emitter

    outcomes = Emitter("kafka:9092", source="runbooks/disk-cleanup")
    with outcomes.run("disk-cleanup", "sweep", manual_duration_s=600, cost=0.02) as run:
        sweep_disks()                      # an exception marks the run failed (and re-raises)
        run.human_effort_s += 120          # someone had to step in
    outcomes.savings("disk-cleanup", 40.0, "cloud", basis="EBS volumes deleted")
    outcomes.close()                       # waits (bounded) for the broker's acknowledgement

Events go out as CloudEvents in binary mode, key = project. Imports only `schemas`
and kafka-python. Emitting never blocks the caller (see `DeliveryQueue`) and never raises
into it: telemetry must not break the work it measures. An event with bad values is
refused — logged once per kind of problem, counted in `Emitter.refused` — and the call
returns None; `strict=True` (for tests) raises instead. A naive datetime is taken as UTC
(with a warning; an error when strict); an availability window longer than an hour is
sent as consecutive windows of at most an hour, its downtime split pro rata.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal, ParamSpec, TypeVar

from outcomes.sdk.delivery import DeliveryQueue, KafkaSender, Sender
from outcomes.sdk.events import new_event
from schemas.binding import to_binary
from schemas.envelope import OutcomeEvent
from schemas.events import EventType

MAX_WINDOW = timedelta(hours=1)
P = ParamSpec("P")
log = logging.getLogger("outcomes.sdk")
R = TypeVar("R")


class Run:
    """One automation run being measured; set fields before the block ends."""

    def __init__(
        self,
        emitter: Emitter,
        project: str,
        automation: str,
        *,
        manual_duration_s: float,
        human_effort_s: float,
        cost: float,
    ) -> None:
        self.project = project
        self.automation = automation
        self.manual_duration_s = manual_duration_s
        self.human_effort_s = human_effort_s
        self.cost = cost
        self.outcome: str | None = None
        self.links: list[str] = []
        self.id = str(uuid.uuid4())
        """The run's event id, known from the start: give it to whoever reviews the
        output, and send their verdict with `emitter.review(project, run.id, ...)`."""
        self._emitter = emitter
        self._started = time.monotonic()

    def cancel(self) -> None:
        """Report this run as cancelled (nothing was attempted or it was aborted)."""
        self.outcome = "cancelled"

    def __enter__(self) -> Run:
        self._started = time.monotonic()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.outcome is None:
            if exc_type is None:
                self.outcome = "succeeded"
            elif issubclass(exc_type, KeyboardInterrupt):
                self.outcome = "cancelled"
            else:
                self.outcome = "failed"
        data: dict[str, Any] = {
            "project": self.project,
            "automation": self.automation,
            "outcome": self.outcome,
            "duration_s": round(time.monotonic() - self._started, 6),
            "manual_duration_s": self.manual_duration_s,
            "human_effort_s": self.human_effort_s,
            "cost": self.cost,
        }
        if self.links:
            data["links"] = self.links
        self._emitter.emit(EventType.RUN_FINISHED, data, event_id=self.id)


class Incident:
    """An incident of one service, open while the block runs (`Emitter.incident`)."""

    def __init__(self, emitter: Emitter, project: str, service: str, incident: str,
                 **details: str | None) -> None:  # fmt: skip
        self._emitter, self._key = emitter, (project, service, incident)
        self._details = {name: value for name, value in details.items() if value is not None}
        self.started_at: datetime | None = None
        self.resolved_by: str | None = None

    def __enter__(self) -> Incident:
        self.started_at = datetime.now(UTC)
        project, service, incident = self._key
        title, severity = self._details.get("title"), self._details.get("severity")
        self._emitter.incident_opened(project, service, incident, started_at=self.started_at,
                                      title=title, severity=severity)  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        project, service, incident = self._key
        self._emitter.incident_resolved(
            project, service, incident, started_at=self.started_at,
            resolved_by=self.resolved_by or self._details.get("resolved_by"),
            title=self._details.get("title"), severity=self._details.get("severity"),
        )  # fmt: skip


class Emitter:
    """Emits outcome events for one `source` (e.g. `ci/github/deploy`).

    Thread-safe. Events are buffered (at most `buffer_events`) and delivered by a
    background thread; `flush()` / `close()` wait a bounded time for acknowledgements.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        source: str,
        topic: str = "outcomes.events",
        buffer_events: int = 10_000,
        sender: Callable[[], Sender] | None = None,
        strict: bool = False,
        **producer_config: Any,
    ) -> None:
        self.source = source
        self.strict = strict
        self.refused = 0
        """Events not sent because their values were invalid (each kind logged once)."""
        self._logged: set[str] = set()
        self._lock = threading.Lock()
        connect = sender or (lambda: KafkaSender(bootstrap_servers, **producer_config))
        self._queue = DeliveryQueue(connect, topic, capacity=buffer_events)

    @property
    def dropped(self) -> int:
        """Events discarded because the buffer was full (each was logged)."""
        return self._queue.dropped

    @property
    def delivered(self) -> int:
        return self._queue.delivered

    def emit(
        self,
        event_type: EventType,
        data: dict[str, Any],
        *,
        time: datetime | None = None,
        event_id: str | None = None,
    ) -> OutcomeEvent | None:
        """Validate and queue one event. Invalid: None (logged once, counted in `refused`);
        with `strict=True` pydantic's ValidationError (or ValueError) is raised."""
        try:
            moment = self._aware(time, "time") if time is not None else datetime.now(UTC)
            event = new_event(event_type, self.source, data, time=moment, event_id=event_id)
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            if self.strict:
                raise
            self._refuse(event_type, error)
            return None
        self._queue.put(to_binary(event))
        return event

    def _refuse(self, event_type: EventType, error: ValueError) -> None:
        detail = str(error).splitlines()
        summary = f"{event_type.value}: {detail[0] if detail else error!r}"
        with self._lock:
            self.refused += 1
            first = summary not in self._logged
            self._logged.add(summary)
        if first:  # once per kind of problem: a loop must not flood the automation's log
            log.error("outcome event not sent (invalid values; logged once): %s", error)

    def _aware(self, moment: datetime, name: str) -> datetime:
        """`moment` with a timezone: a naive one is an error when strict, else UTC."""
        if moment.tzinfo is not None:
            return moment
        if self.strict:
            raise ValueError(f"{name}: a naive datetime; give it a timezone (e.g. UTC)")
        key = f"naive {name}"
        with self._lock:
            first = key not in self._logged
            self._logged.add(key)
        if first:
            log.warning("outcome event %s has no timezone: taken as UTC (logged once)", name)
        return moment.replace(tzinfo=UTC)

    def run(
        self,
        project: str,
        automation: str,
        *,
        manual_duration_s: float,
        human_effort_s: float = 0.0,
        cost: float = 0.0,
    ) -> Run:
        """Context manager measuring one run; outcome from how the block ends."""
        return Run(
            self,
            project,
            automation,
            manual_duration_s=manual_duration_s,
            human_effort_s=human_effort_s,
            cost=cost,
        )

    def track(
        self,
        project: str,
        automation: str,
        *,
        manual_duration_s: float,
        human_effort_s: float = 0.0,
        cost: float = 0.0,
    ) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator: every call of the function is one run."""

        def decorate(function: Callable[P, R]) -> Callable[P, R]:
            @functools.wraps(function)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                with self.run(
                    project,
                    automation,
                    manual_duration_s=manual_duration_s,
                    human_effort_s=human_effort_s,
                    cost=cost,
                ):
                    return function(*args, **kwargs)

            return wrapper

        return decorate

    def cost(
        self, project: str, amount: float, category: str, description: str | None = None
    ) -> OutcomeEvent | None:
        data: dict[str, Any] = {"project": project, "amount": amount, "category": category}
        if description:
            data["description"] = description
        return self.emit(EventType.COST_INCURRED, data)

    def savings(
        self,
        project: str,
        amount: float,
        category: str,
        *,
        basis: str,
        evidence: Literal["measured", "estimated"] = "estimated",
    ) -> OutcomeEvent | None:
        """Money saved; `evidence="measured"` when it is read off a bill, invoice or meter
        (the default, estimated, is computed from assumptions)."""
        data = {"project": project, "amount": amount, "category": category, "basis": basis}
        if evidence != "estimated":
            data["evidence"] = evidence
        return self.emit(EventType.SAVINGS_REALIZED, data)

    def ai_usage(
        self,
        project: str,
        automation: str,
        *,
        provider: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        operation: str = "chat",
        cache_read_tokens: int | None = None,
        cache_write_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        cost: float | None = None,
        time: datetime | None = None,
    ) -> OutcomeEvent | None:
        """One model call (`outcomes.ai.usage`): tokens as the OpenTelemetry GenAI
        conventions count them (input includes cached, output includes reasoning); `cost`
        only when the provider reported it. The collector prices the rest."""
        data: dict[str, Any] = {
            "project": project,
            "automation": automation,
            "provider": provider,
            "model": model,
            "operation": operation,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
        }
        optional = {
            "cache_read_tokens": cache_read_tokens,
            "cache_write_tokens": cache_write_tokens,
            "reasoning_tokens": reasoning_tokens,
            "cost": cost,
        }
        data.update({name: value for name, value in optional.items() if value is not None})
        return self.emit(EventType.AI_USAGE, data, time=time)

    def review(
        self,
        project: str,
        subject: str,
        verdict: str,
        *,
        automation: str,
        human_effort_s: float | None = None,
        reviewer: str | None = None,
        time: datetime | None = None,
    ) -> OutcomeEvent | None:
        """A person's verdict on run `subject` (its `run.id`): accepted, edited, rejected or
        escalated. Rejected and escalated runs' manual time no longer counts as time saved;
        `human_effort_s` (the review and any fix-up) counts as human effort. A later review
        of the same run replaces this one."""
        data: dict[str, Any] = {
            "project": project,
            "automation": automation,
            "subject": subject,
            "verdict": verdict,
        }
        optional = {"human_effort_s": human_effort_s, "reviewer": reviewer}
        data.update({name: value for name, value in optional.items() if value is not None})
        return self.emit(EventType.REVIEW_RECORDED, data, time=time)

    def availability(
        self,
        project: str,
        service: str,
        window_start: datetime,
        window_end: datetime,
        downtime_s: float,
    ) -> list[OutcomeEvent]:
        """Downtime of `service` over [window_start, window_end). A window longer than an
        hour (the longest the collector takes) goes out as consecutive windows of at most an
        hour, the downtime split in proportion to their lengths."""
        try:
            start, end = (
                self._aware(window_start, "window_start"),
                self._aware(window_end, "window_end"),
            )
        except ValueError:
            if self.strict:
                raise
            self._refuse(EventType.AVAILABILITY_OBSERVED, ValueError("naive window times"))
            return []
        pieces = [(start, end)]
        if not self.strict and end - start > MAX_WINDOW:
            pieces = []
            while start < end:
                pieces.append((start, min(start + MAX_WINDOW, end)))
                start = pieces[-1][1]
        total_s = (end - pieces[0][0]).total_seconds() if pieces else 0.0
        sent = []
        for first, last in pieces:
            length_s = (last - first).total_seconds()
            share = downtime_s * length_s / total_s if total_s > 0 else downtime_s
            data = {
                "project": project,
                "service": service,
                "window_start": first.isoformat(),
                "window_end": last.isoformat(),
                "downtime_s": min(round(share, 6), length_s),
            }
            event = self.emit(EventType.AVAILABILITY_OBSERVED, data, time=last)
            if event is not None:
                sent.append(event)
        return sent

    def incident_opened(
        self,
        project: str,
        service: str,
        incident: str,
        *,
        started_at: datetime | None = None,
        title: str | None = None,
        severity: str | None = None,
    ) -> OutcomeEvent | None:
        """An incident of `service` started (`started_at`, default now). `incident` is its
        key in your tool: the same key pairs it with its resolution."""
        data = _present(project=project, service=service, incident=incident, title=title,
                        severity=severity)  # fmt: skip
        return self.emit(EventType.INCIDENT_OPENED, data, time=started_at)

    def incident_resolved(
        self,
        project: str,
        service: str,
        incident: str,
        *,
        ended_at: datetime | None = None,
        started_at: datetime | None = None,
        resolved_by: str | None = None,
        title: str | None = None,
        severity: str | None = None,
    ) -> OutcomeEvent | None:
        """An incident ended (`ended_at`, default now); `started_at` when you know it,
        else its `incident_opened` gives it. `resolved_by`: automation or person."""
        data = _present(
            project=project, service=service, incident=incident, resolved_by=resolved_by,
            title=title, severity=severity,
            started_at=None if started_at is None else started_at.isoformat(),
        )  # fmt: skip
        return self.emit(EventType.INCIDENT_RESOLVED, data, time=ended_at)

    def incident(
        self,
        project: str,
        service: str,
        incident: str,
        *,
        title: str | None = None,
        severity: str | None = None,
        resolved_by: str | None = None,
    ) -> Incident:
        """A context manager: the incident opens when the block starts and is resolved when
        it ends (set `.resolved_by` inside the block to say who fixed it)."""
        return Incident(self, project, service, incident, title=title, severity=severity,
                        resolved_by=resolved_by)  # fmt: skip

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued event is acknowledged; False on timeout."""
        return self._queue.flush(timeout_s)

    def close(self, timeout_s: float = 10.0) -> bool:
        """Flush, then stop; False if some events could not be delivered in time."""
        return self._queue.close(timeout_s)

    def __enter__(self) -> Emitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _present(**fields: str | None) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}
