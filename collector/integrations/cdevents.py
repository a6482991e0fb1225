"""CDEvents (cdevents/spec): finished pipeline and task runs, and incidents.

A CDEvent arrives as a CloudEvent whose data is the whole CDEvent: over HTTP in binary
mode (`ce-*` headers, body = the CDEvent) or structured mode (`data` = the CDEvent), or as
the bare CDEvent; on Kafka the collector passes the record's value. Both context versions
are read: 0.4 names it `context.version`, 0.5 `context.specversion`. Outcomes: success →
succeeded; failure and error → failed; cancel → cancelled. A finished event carries no
start time, so `duration_s` is absent. The id is the run's subject id (one finished event
per run), the event source its context source.

Incidents: `incident.detected` and `incident.reported` open the incident at the event's
timestamp, `incident.resolved` resolves it; they pair by subject id. Rule fields: `source`,
`service` (`subject.content.service.id`), `environment` (`…environment.id`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from collector.integrations.model import (
    Ignored,
    IncidentChange,
    IncidentFacts,
    MalformedError,
    Outcome,
    RunFacts,
)
from collector.integrations.payload import dig, moment, text

PREFIX = "dev.cdevents."
OUTCOMES: dict[str, Outcome] = {
    "success": "succeeded",
    "failure": "failed",
    "error": "failed",
    "cancel": "cancelled",
}


def unwrap(payload: Any) -> Any:
    """The CDEvent itself, from a structured CloudEvent or as it is."""
    if isinstance(payload, Mapping) and "context" not in payload and "data" in payload:
        return payload["data"]
    return payload


INCIDENT_STATES: dict[str, Literal["opened", "resolved"]] = {
    "detected": "opened",
    "reported": "opened",
    "resolved": "resolved",
}


def _incident(event: Any, predicate: str) -> IncidentFacts:
    content = dig(event, "subject.content")
    at = moment(event, "context.timestamp")
    assert at is not None
    source = text(event, "context.source") or ""
    fields = {
        "source": source,
        "service": text(content, "service.id", required=False) or "",
        "environment": text(content, "environment.id", required=False) or "",
    }
    description = text(content, "description", required=False)
    return IncidentFacts((IncidentChange(
        fields=fields,
        state=INCIDENT_STATES[predicate],
        key=text(event, "subject.id") or "",
        at=at,
        source=source,
        # senders reuse context.id across types (the conformance samples of detected,
        # reported and resolved share one): the fact is the id with its predicate
        event_id=f"incident.{predicate}/{text(event, 'context.id') or ''}",
        title=description[:512] if description else None,
    ),))  # fmt: skip


def facts(headers: Mapping[str, str], payload: Any) -> RunFacts | IncidentFacts | Ignored:
    event = unwrap(payload)
    kind = text(event, "context.type") or ""
    if (
        text(event, "context.specversion", False) is None
        and text(event, "context.version", False) is None
    ):
        raise MalformedError("context.specversion (or 0.4's context.version): missing")
    parts = kind.removeprefix(PREFIX).split(".")
    if not kind.startswith(PREFIX) or len(parts) < 2:
        raise MalformedError(f"context.type {kind!r} is not a CDEvents type")
    subject, predicate = parts[0], parts[1]
    if subject == "incident" and predicate in INCIDENT_STATES:
        return _incident(event, predicate)
    if subject not in ("pipelinerun", "taskrun") or predicate != "finished":
        return Ignored(f"cdevents {subject}.{predicate} is not a finished run")
    content = dig(event, "subject.content")
    result = text(content, "outcome") or ""
    outcome = OUTCOMES.get(result)
    if outcome is None:
        raise MalformedError(f"subject.content.outcome {result!r} is not a CDEvents outcome")
    finished = moment(event, "context.timestamp")
    assert finished is not None
    source = text(event, "context.source") or ""
    fields = {
        "source": source,
        "pipeline": text(content, "pipelineName", required=False) or "",
    }
    if subject == "taskrun":
        fields["task"] = text(content, "taskName", required=False) or ""
    link = text(content, "url", required=False) or text(content, "uri", required=False)
    return RunFacts(
        fields=fields,
        outcome=outcome,
        finished=finished,
        duration_s=None,
        source=source,
        key=f"{subject}/{text(event, 'subject.id')}",
        level="job" if subject == "taskrun" else "run",
        links=(link,) if link else (),
    )
