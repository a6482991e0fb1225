"""Ansible AWX / Automation Platform: the webhook notification's default body.

Sent on start (status `running`, ignored), success and error. Outcomes: successful →
succeeded; failed and error → failed; canceled → cancelled. The id is the job id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from collector.integrations.model import Ignored, Outcome, RunFacts
from collector.integrations.payload import moment, seconds_between, text

OUTCOMES: dict[str, Outcome] = {
    "successful": "succeeded",
    "failed": "failed",
    "error": "failed",
    "canceled": "cancelled",
}


def facts(headers: Mapping[str, str], payload: Any) -> RunFacts | Ignored:
    status = text(payload, "status") or ""
    outcome = OUTCOMES.get(status)
    if outcome is None:
        return Ignored(f"awx job status {status!r}: not finished")
    finished = moment(payload, "finished")
    assert finished is not None
    url = text(payload, "url", required=False)
    host = urlsplit(url).netloc if url else ""
    return RunFacts(
        fields={
            "template": text(payload, "name") or "",
            "playbook": text(payload, "playbook", required=False) or "",
            "inventory": text(payload, "inventory", required=False) or "",
            "project": text(payload, "project", required=False) or "",
        },
        outcome=outcome,
        finished=finished,
        duration_s=seconds_between(moment(payload, "started", required=False), finished),
        source=f"awx/{host}" if host else "awx",
        key=f"job/{text(payload, 'id')}",
        links=(url,) if url else (),
    )
