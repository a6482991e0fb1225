"""Prometheus Alertmanager `webhook_config` deliveries (payload version 4).

One POST carries several alerts, firing and resolved mixed (the top-level `status` is
"firing" if any is): each alert is read on its own. A firing alert opens an incident at
`startsAt`; a resolved one resolves it at `endsAt`, with `startsAt` as its start. The
incident key is the alert's fingerprint and its start: the same alert is re-sent every
`repeat_interval` and on every group change (a repeat, same event id), and a new firing
of the same alert later is a new incident. A firing alert's `endsAt` is the zero time
`0001-01-01T00:00:00Z`: it is never read. Rule fields: `labels.<name>` of the alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from collector.integrations.model import Ignored, IncidentChange, IncidentFacts, MalformedError
from collector.integrations.payload import dig, moment, text
from schemas.binding import format_time


def facts(headers: Mapping[str, str], payload: Any) -> IncidentFacts | Ignored:
    if text(payload, "version") != "4":
        raise MalformedError(f"version {dig(payload, 'version')!r}: only webhook version 4 is read")
    alerts = dig(payload, "alerts")
    if not isinstance(alerts, list):
        raise MalformedError("alerts: expected a list")
    source = text(payload, "externalURL", required=False) or "alertmanager"
    changes = tuple(_change(alert, source) for alert in alerts)
    return IncidentFacts(changes) if changes else Ignored("no alerts in the notification")


def _change(alert: Any, source: str) -> IncidentChange:
    labels = dig(alert, "labels")
    if not isinstance(labels, Mapping):
        raise MalformedError("alerts[].labels: expected an object")
    status = text(alert, "status")
    if status not in ("firing", "resolved"):
        raise MalformedError(f"alerts[].status {status!r}: expected firing or resolved")
    started = moment(alert, "startsAt")
    assert started is not None
    fingerprint = text(alert, "fingerprint")
    key = f"{fingerprint}/{format_time(started)}"
    state: Literal["opened", "resolved"] = "opened" if status == "firing" else "resolved"
    annotations = alert.get("annotations") if isinstance(alert.get("annotations"), Mapping) else {}
    title = annotations.get("summary") or labels.get("alertname")
    ended = moment(alert, "endsAt") if state == "resolved" else None
    return IncidentChange(
        fields={f"labels.{name}": str(value) for name, value in labels.items()},
        state=state,
        key=key,
        at=started if ended is None else ended,
        source=source,
        event_id=f"{key}/{state}",
        started=started if state == "resolved" else None,
        title=str(title)[:512] if title else None,
        severity=str(labels["severity"])[:64] if labels.get("severity") else None,
    )
