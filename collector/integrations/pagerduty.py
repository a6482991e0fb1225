"""PagerDuty v3 webhook subscriptions: incident events.

One event per POST: `event.{id, event_type, occurred_at, agent, data}`. `incident.triggered`
and `incident.reopened` open the incident (`data.id`) at `occurred_at`; `incident.resolved`
resolves it there (its start comes from the triggered event). Acknowledgements, escalations,
annotations and the rest change nothing we count: ignored. Who resolved it: a user agent
(`user_reference`) is a person, any other agent (a service, an integration) automation.
The event id is PagerDuty's `event.id`, the same in every redelivery. Rule fields:
`service` (the service's name), `urgency`, `priority` (its name), `team` (the first team).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from collector.integrations.model import Ignored, IncidentChange, IncidentFacts, MalformedError
from collector.integrations.payload import dig, moment, text

OPENS = frozenset({"incident.triggered", "incident.reopened"})


def facts(headers: Mapping[str, str], payload: Any) -> IncidentFacts | Ignored:
    event = dig(payload, "event")
    kind = text(event, "event_type") or ""
    if kind not in OPENS and kind != "incident.resolved":
        return Ignored(f"pagerduty {kind} opens or resolves nothing")
    data = dig(event, "data")
    at = moment(event, "occurred_at")
    assert at is not None
    service = text(data, "service.summary", required=False) or text(data, "service.id") or ""
    teams = data.get("teams") if isinstance(data, Mapping) else None
    team = (
        teams[0].get("summary")
        if isinstance(teams, list) and teams and isinstance(teams[0], Mapping)
        else None
    )
    fields = {
        "service": service,
        "urgency": text(data, "urgency", required=False) or "",
        "priority": text(data, "priority.summary", required=False) or "",
        "team": str(team or ""),
    }
    state: Literal["opened", "resolved"] = "opened" if kind in OPENS else "resolved"
    return IncidentFacts((IncidentChange(
        fields=fields,
        state=state,
        key=f"pagerduty/{text(data, 'id')}",
        at=at,
        source="pagerduty",
        event_id=text(event, "id") or "",
        title=(text(data, "title", required=False) or "")[:512] or None,
        severity=text(data, "urgency", required=False),
        resolved_by=_resolver(event) if state == "resolved" else None,
    ),))  # fmt: skip


def _resolver(event: Any) -> Literal["automation", "person"] | None:
    agent = event.get("agent") if isinstance(event, Mapping) else None
    if not isinstance(agent, Mapping) or not agent.get("type"):
        return None
    if not isinstance(agent["type"], str):
        raise MalformedError("event.agent.type: expected text")
    return "person" if agent["type"] == "user_reference" else "automation"
