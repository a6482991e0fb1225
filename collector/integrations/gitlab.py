"""GitLab CI: Pipeline Hook (whole pipelines) and Job Hook (jobs; `object_kind: build`).

Only terminal statuses carry an outcome (a pipeline hook fires on every status change).
Timestamps come as `2016-08-12 15:23:28 UTC` (pipelines) or ISO 8601 (`*_iso` on jobs):
both are read. The id is the pipeline (job) id with its terminal status: a pipeline that
failed and then succeeded on retry counts as two runs, a redelivery as none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collector.integrations.model import Ignored, Outcome, RunFacts
from collector.integrations.payload import dig, moment, number, seconds_between, text

OUTCOMES: dict[str, Outcome] = {
    "success": "succeeded",
    "failed": "failed",
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "skipped": "cancelled",
}


def facts(headers: Mapping[str, str], payload: Any) -> RunFacts | Ignored:
    kind = text(payload, "object_kind", required=False)
    if kind == "pipeline":
        return _pipeline(payload)
    if kind == "build":
        return _job(payload)
    event = headers.get("x-gitlab-event", "")
    return Ignored(f"gitlab {event or kind or 'delivery'!r} carries no pipeline outcome")


def _source(payload: Any) -> str:
    web = text(payload, "project.web_url", required=False)
    return web or f"gitlab/{text(payload, 'project.path_with_namespace', required=False)}"


def _pipeline(payload: Any) -> RunFacts | Ignored:
    attributes = dig(payload, "object_attributes")
    status = text(attributes, "status") or ""
    outcome = OUTCOMES.get(status)
    if outcome is None:
        return Ignored(f"pipeline status {status!r}: not finished")
    finished = moment(attributes, "finished_at")
    assert finished is not None
    duration = number(attributes, "duration")
    if duration is None:
        duration = seconds_between(moment(attributes, "created_at", required=False), finished)
    fields = {
        "project": text(payload, "project.path_with_namespace") or "",
        "pipeline": text(attributes, "name", required=False)
        or text(attributes, "source", required=False)
        or "",
        "ref": text(attributes, "ref", required=False) or "",
    }
    link = text(attributes, "url", required=False)
    return RunFacts(
        fields=fields,
        outcome=outcome,
        finished=finished,
        duration_s=duration,
        source=_source(payload),
        key=f"pipeline/{text(attributes, 'id')}/{status}",
        links=(link,) if link else (),
    )


def _job(payload: Any) -> RunFacts | Ignored:
    status = text(payload, "build_status") or ""
    outcome = OUTCOMES.get(status)
    if outcome is None:
        return Ignored(f"job status {status!r}: not finished")
    finished = moment(payload, "build_finished_at_iso", required=False) or moment(
        payload, "build_finished_at"
    )
    assert finished is not None
    duration = number(payload, "build_duration")
    if duration is None:
        started = moment(payload, "build_started_at_iso", required=False) or moment(
            payload, "build_started_at", required=False
        )
        duration = seconds_between(started, finished)
    fields = {
        "project": text(payload, "project.path_with_namespace", required=False)
        or text(payload, "project_name")
        or "",
        "pipeline": text(payload, "pipeline_name", required=False) or "",
        "job": text(payload, "build_name") or "",
        "stage": text(payload, "build_stage", required=False) or "",
        "ref": text(payload, "ref", required=False) or "",
    }
    retries = text(payload, "retries_count", required=False) or "0"
    return RunFacts(
        fields=fields,
        outcome=outcome,
        finished=finished,
        duration_s=duration,
        source=_source(payload),
        key=f"job/{text(payload, 'build_id')}/{status}/{retries}",
        level="job",
    )
