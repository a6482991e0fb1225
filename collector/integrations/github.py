"""GitHub Actions: `workflow_run` (whole runs) and `workflow_job` (jobs) deliveries.

Header `X-GitHub-Event` names the kind; only `action: completed` carries an outcome.
The event id comes from the run id and attempt (jobs: job id and attempt), never from
`X-GitHub-Delivery`, which a redelivery reuses but two hooks on one repository do not
share. A run's duration is `updated_at − run_started_at` (GitHub sends no duration; older
payloads have no `run_started_at`, then `created_at`); a job's is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collector.integrations.model import Ignored, Outcome, RunFacts
from collector.integrations.payload import dig, moment, seconds_between, text

OUTCOMES: dict[str, Outcome] = {
    "success": "succeeded",
    "failure": "failed",
    "timed_out": "failed",
    "startup_failure": "failed",
    "cancelled": "cancelled",
    "skipped": "cancelled",
}
"""Conclusions that decide a run; neutral, action_required and stale are ignored."""


def facts(headers: Mapping[str, str], payload: Any) -> RunFacts | Ignored:
    kind = headers.get("x-github-event", "")
    if kind not in ("workflow_run", "workflow_job"):
        return Ignored(f"github event {kind or '(none)'!r} carries no run outcome")
    action = text(payload, "action")
    if action != "completed":
        return Ignored(f"{kind} {action}: not finished")
    repository = text(payload, "repository.full_name")
    if kind == "workflow_job":
        return _job(payload, str(repository))
    return _run(payload, str(repository))


def _outcome(conclusion: str | None) -> Outcome | None:
    return OUTCOMES.get(conclusion or "")


def _run(payload: Any, repository: str) -> RunFacts | Ignored:
    run = dig(payload, "workflow_run")
    conclusion = text(run, "conclusion", required=False)
    outcome = _outcome(conclusion)
    if outcome is None:
        return Ignored(f"workflow_run conclusion {conclusion!r} decides nothing")
    finished = moment(run, "updated_at")
    assert finished is not None
    started = moment(run, "run_started_at", required=False) or moment(run, "created_at", False)
    workflow = (
        text(run, "name", required=False)
        or text(payload, "workflow.name", required=False)
        or text(run, "path", required=False)
        or ""
    )
    fields = {
        "repository": repository,
        "workflow": workflow,
        "branch": text(run, "head_branch", required=False) or "",
        "event": text(run, "event", required=False) or "",
    }
    attempt = text(run, "run_attempt", required=False) or "1"
    link = text(run, "html_url", required=False)
    return RunFacts(
        fields=fields,
        outcome=outcome,
        finished=finished,
        duration_s=seconds_between(started, finished),
        source=f"https://github.com/{repository}",
        key=f"workflow_run/{text(run, 'id')}/attempt/{attempt}",
        links=(link,) if link else (),
    )


def _job(payload: Any, repository: str) -> RunFacts | Ignored:
    job = dig(payload, "workflow_job")
    conclusion = text(job, "conclusion", required=False)
    outcome = _outcome(conclusion)
    if outcome is None:
        return Ignored(f"workflow_job conclusion {conclusion!r} decides nothing")
    finished = moment(job, "completed_at")
    assert finished is not None
    fields = {
        "repository": repository,
        "workflow": text(job, "workflow_name", required=False) or "",
        "job": text(job, "name") or "",
        "branch": text(job, "head_branch", required=False) or "",
    }
    attempt = text(job, "run_attempt", required=False) or "1"
    link = text(job, "html_url", required=False)
    return RunFacts(
        fields=fields,
        outcome=outcome,
        finished=finished,
        duration_s=seconds_between(moment(job, "started_at", required=False), finished),
        source=f"https://github.com/{repository}",
        key=f"workflow_job/{text(job, 'id')}/attempt/{attempt}",
        level="job",
        links=(link,) if link else (),
    )
