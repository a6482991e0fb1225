"""Tekton Pipelines: its CloudEvents (`dev.tekton.event.{pipelinerun,taskrun}.*.v1`).

Sent in binary mode: `Ce-Type` names the run kind and state, the body holds the whole
resource (`{"pipelineRun": {...}}` or `{"taskRun": {...}}`). `successful` and `failed`
finish a run (a failed run whose condition reason says it was cancelled counts as
cancelled); `started`, `running` and `unknown` are ignored. The id is the resource's
`metadata.uid`: Tekton re-sends with new event ids, the uid stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collector.integrations.model import Ignored, MalformedError, Outcome, RunFacts
from collector.integrations.payload import dig, moment, seconds_between, text

PREFIX = "dev.tekton.event."
CANCELLED_REASONS = frozenset(
    {"Cancelled", "PipelineRunCancelled", "TaskRunCancelled", "CancelledRunFinally",
     "StoppedRunFinally"}
)  # fmt: skip


def facts(headers: Mapping[str, str], payload: Any) -> RunFacts | Ignored:
    kind = headers.get("ce-type", "")
    parts = kind.removeprefix(PREFIX).split(".")
    if not kind.startswith(PREFIX) or len(parts) != 3 or parts[0] not in ("pipelinerun", "taskrun"):
        return Ignored(f"tekton event {kind or '(no ce-type)'!r} carries no run outcome")
    resource, state = parts[0], parts[1]
    if state not in ("successful", "failed"):
        return Ignored(f"tekton {resource} {state}: not finished")
    run = dig(payload, "pipelineRun" if resource == "pipelinerun" else "taskRun")
    outcome: Outcome = "succeeded" if state == "successful" else _failure(run)
    finished = moment(run, "status.completionTime")
    assert finished is not None
    labels = dig(run, "metadata.labels", required=False) or {}
    if not isinstance(labels, Mapping):
        raise MalformedError("metadata.labels: expected an object")
    fields = {
        "namespace": text(run, "metadata.namespace") or "",
        "pipeline": str(labels.get("tekton.dev/pipeline") or "")
        or text(run, "spec.pipelineRef.name", required=False)
        or "",
    }
    if resource == "taskrun":
        fields["task"] = (
            str(labels.get("tekton.dev/task") or "")
            or text(run, "spec.taskRef.name", required=False)
            or text(run, "metadata.name")
            or ""
        )
    return RunFacts(
        fields=fields,
        outcome=outcome,
        finished=finished,
        duration_s=seconds_between(moment(run, "status.startTime", required=False), finished),
        source=headers.get("ce-source") or f"tekton/{fields['namespace']}",
        key=f"{resource}/{text(run, 'metadata.uid')}",
        level="job" if resource == "taskrun" else "run",
    )


def _failure(run: Any) -> Outcome:
    conditions = dig(run, "status.conditions", required=False) or []
    reasons = {c.get("reason") for c in conditions if isinstance(c, Mapping)}
    return "cancelled" if reasons & CANCELLED_REASONS else "failed"
