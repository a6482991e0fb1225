"""The ServiceNow and Jira Service Management templates (deploy/examples/incidents) produce
valid incident events, filled with values shaped like those tools' documented fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from schemas.envelope import OutcomeEvent, parse_event
from schemas.events import IncidentResolved
from tests.support.tools import DEPLOY

TEMPLATES = DEPLOY / "examples" / "incidents"


def structured(text: str) -> tuple[dict[str, str], object]:
    document = json.loads(text)
    data = document.pop("data")
    return document, data


def servicenow(values: dict[str, str]) -> OutcomeEvent:
    """The REST message body with its `${…}` variables set as the business rule sets them."""
    text = (TEMPLATES / "servicenow-rest-message.json").read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return parse_event(*structured(text))


def test_servicenow_rest_message_for_a_resolved_incident() -> None:
    """Fields of the `incident` table: sys_id (32 hex), number (INC…), state 6 = Resolved,
    opened_at / resolved_at as GlideDateTime values (UTC, `yyyy-MM-dd HH:mm:ss`), priority's
    display value; the business rule turns the times into RFC 3339 and JSON-escapes the
    short description (`setStringParameter`)."""

    def rfc3339(glide: str) -> str:  # what the business rule's rfc3339() does
        return glide.replace(" ", "T") + "Z"

    opened_at, resolved_at = "2026-11-15 09:30:00", "2026-11-15 10:05:00"
    values = {
        "sys_id": "9d385017c611228701d22104cc95c371", "state_name": "resolved",
        "instance": "acme", "event": "resolved", "time": rfc3339(resolved_at),
        "project": "checkout", "service": "checkout-api", "number": "INC0010023",
        "short_description": json.dumps('Checkout "500" errors')[1:-1], "priority": "1 - Critical",
        "resolution": f', "started_at": "{rfc3339(opened_at)}", "resolved_by": "automation"',
    }  # fmt: skip
    event = servicenow(values)
    assert isinstance(event.data, IncidentResolved)
    assert (event.data.incident, event.data.service, event.data.resolved_by) == (
        "INC0010023",
        "checkout-api",
        "automation",
    )
    assert event.data.started_at == datetime(2026, 11, 15, 9, 30, tzinfo=UTC)
    assert event.time == datetime(2026, 11, 15, 10, 5, tzinfo=UTC)
    assert event.data.title == 'Checkout "500" errors'
    assert event.id == "servicenow-9d385017c611228701d22104cc95c371-resolved"


def test_servicenow_rest_message_for_an_opened_incident() -> None:
    values = {"sys_id": "0" * 32, "state_name": "opened", "instance": "acme", "event": "opened",
              "time": "2026-11-15T09:30:00Z", "project": "checkout", "service": "checkout-api",
              "number": "INC0010024", "short_description": "Slow", "priority": "3 - Moderate",
              "resolution": ""}  # fmt: skip
    event = servicenow(values)
    assert event.type.value == "outcomes.incident.opened"


def test_jira_automation_web_request() -> None:
    """Smart values as Jira renders them for a JSM issue: key, created / resolutiondate
    formatted with the template's pattern (`XXX` gives `Z` for UTC), the first component,
    the summary as a JSON string (`asJsonString`), the priority's name."""
    rendered = {
        "{{issue.key}}": "SUP-42",
        "{{issue.status.name.toLowerCase()}}": "resolved",
        "{{baseUrl}}": "https://acme.atlassian.net",
        "{{issue.resolutiondate.format(\\\"yyyy-MM-dd'T'HH:mm:ssXXX\\\")}}": "2026-11-15T10:05:00Z",
        "{{issue.created.format(\\\"yyyy-MM-dd'T'HH:mm:ssXXX\\\")}}": "2026-11-15T09:30:00+01:00",
        "{{issue.components.first.name.toLowerCase()}}": "checkout-api",
        "{{issue.summary.asJsonString}}": json.dumps("Checkout down for EU customers"),
        "{{issue.priority.name}}": "Highest",
    }
    text = (TEMPLATES / "jira-automation-web-request.json").read_text()
    for smart, value in rendered.items():
        assert smart in text, smart
        text = text.replace(smart, value)
    event = parse_event(*structured(text))
    assert isinstance(event.data, IncidentResolved)
    assert (event.data.incident, event.data.service, event.data.title) == (
        "SUP-42",
        "checkout-api",
        "Checkout down for EU customers",
    )
    assert event.data.started_at == datetime(2026, 11, 15, 8, 30, tzinfo=UTC)
    assert event.id == "jira-SUP-42-resolved"
