"""Jenkins: the Notification plugin's JSON (jenkinsci/notification-plugin).

Phases QUEUED, STARTED, COMPLETED, FINALIZED; COMPLETED and FINALIZED carry the result and
share one id (the build's URL and number), so an endpoint that receives both counts the
build once. `build.timestamp` is the notification time in epoch milliseconds (the end, for
these phases); `build.duration` is in milliseconds. Results: SUCCESS → succeeded;
FAILURE and UNSTABLE (failing tests) → failed; ABORTED and NOT_BUILT → cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collector.integrations.model import Ignored, Outcome, RunFacts
from collector.integrations.payload import dig, moment, number, text

OUTCOMES: dict[str, Outcome] = {
    "SUCCESS": "succeeded",
    "FAILURE": "failed",
    "UNSTABLE": "failed",
    "ABORTED": "cancelled",
    "NOT_BUILT": "cancelled",
}


def facts(headers: Mapping[str, str], payload: Any) -> RunFacts | Ignored:
    build = dig(payload, "build")
    phase = text(build, "phase") or ""
    if phase not in ("COMPLETED", "FINALIZED"):
        return Ignored(f"jenkins phase {phase!r}: not finished")
    status = text(build, "status", required=False) or ""
    outcome = OUTCOMES.get(status)
    if outcome is None:
        return Ignored(f"jenkins result {status!r} decides nothing")
    finished = moment(build, "timestamp")
    assert finished is not None
    duration_ms = number(build, "duration")
    job = text(payload, "name") or ""
    full_url = text(build, "full_url", required=False) or text(build, "fullUrl", required=False)
    number_ = text(build, "number")
    source = full_url.rstrip("/").rsplit("/", 1)[0] if full_url else f"jenkins/{job}"
    return RunFacts(
        fields={"job": job},
        outcome=outcome,
        finished=finished,
        duration_s=None if duration_ms is None else duration_ms / 1000,
        source=source,
        key=f"build/{number_}",
        links=(full_url,) if full_url else (),
    )
