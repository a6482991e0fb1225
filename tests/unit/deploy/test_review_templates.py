"""The ServiceNow and Jira Service Management review templates (deploy/examples/reviews)
produce valid `outcomes.review.recorded` events, filled with values shaped like those tools'
documented fields; the tools' "suggestion accepted / overridden" choices map to verdicts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from schemas.envelope import parse_event
from schemas.events import ReviewRecorded
from tests.support.tools import DEPLOY

TEMPLATES = DEPLOY / "examples" / "reviews"


def structured(text: str) -> tuple[dict[str, str], object]:
    document = json.loads(text)
    data = document.pop("data")
    return document, data


def rule_verdicts() -> dict[str, str]:
    """The business rule's choice -> verdict map, as the rule declares it."""
    rule = (TEMPLATES / "servicenow-review-rule.js").read_text()
    found = re.search(r"var verdicts = \{(.*?)\};", rule)
    assert found is not None
    return dict(re.findall(r"(\w+): '(\w+)'", found.group(1)))


def test_servicenow_choices_map_to_every_verdict() -> None:
    verdicts = rule_verdicts()
    assert verdicts == {
        "accepted": "accepted",
        "edited": "edited",
        "overridden": "rejected",
        "escalated": "escalated",
    }
    assert set(verdicts.values()) == set(ReviewRecorded.model_fields["verdict"].annotation.__args__)  # type: ignore[union-attr]


def test_servicenow_review_message() -> None:
    """`incident` fields: sys_id (32 hex), sys_mod_count, sys_updated_on (a GlideDateTime,
    UTC), sys_updated_by (a user name); the custom fields the rule documents."""
    text = (TEMPLATES / "servicenow-review-message.json").read_text()
    values = {
        "sys_id": "9d385017c611228701d22104cc95c371", "updated": "7", "instance": "acme",
        "time": "2026-11-15T10:05:00Z", "project": "ticket-triage",
        "automation": "triage-agent", "run_id": "5b2c4e0e-7d1a-4f7e-9a51-0c4f4b3d2a10",
        "verdict": rule_verdicts()["overridden"], "reviewer": "beth.anglin",
        "effort": ', "human_effort_s": 600',
    }  # fmt: skip
    for name, value in values.items():
        assert "${" + name + "}" in text, name
        text = text.replace("${" + name + "}", value)
    event = parse_event(*structured(text))
    assert isinstance(event.data, ReviewRecorded)
    assert (event.data.subject, event.data.verdict, event.data.human_effort_s) == (
        "5b2c4e0e-7d1a-4f7e-9a51-0c4f4b3d2a10",
        "rejected",
        600.0,
    )
    assert event.time == datetime(2026, 11, 15, 10, 5, tzinfo=UTC)
    assert event.id == "servicenow-9d385017c611228701d22104cc95c371-review-7"
    without_effort = (TEMPLATES / "servicenow-review-message.json").read_text()
    for name, value in {**values, "effort": ""}.items():
        without_effort = without_effort.replace("${" + name + "}", value)
    assert parse_event(*structured(without_effort)).data.human_effort_s is None  # type: ignore[union-attr]


def test_jira_automation_review_request() -> None:
    """Smart values as Jira renders them: the issue key, now formatted with the template's
    pattern, two custom fields by name (a text field holding the run id, a select list
    whose value is the agent's choice), the initiator's display name."""
    text = (TEMPLATES / "jira-automation-review-request.json").read_text()
    rendered = {
        "{{issue.key}}": "SUP-42",
        "{{now.toMillis}}": "1794743100000",
        "{{baseUrl}}": "https://acme.atlassian.net",
        "{{now.format(\\\"yyyy-MM-dd'T'HH:mm:ssXXX\\\")}}": "2026-11-15T11:05:00+01:00",
        "{{issue.Outcomes run id.asJsonString}}": json.dumps("7f1e2d3c-run-42"),
        # a select list value "Overridden", lowercased and renamed by the template
        '{{issue.AI suggestion.value.toLowerCase().replace(\\"overridden\\", \\"rejected\\")}}': (
            "rejected"
        ),
        "{{initiator.displayName.asJsonString}}": json.dumps("Beth Anglin"),
    }
    for smart, value in rendered.items():
        assert smart in text, smart
        text = text.replace(smart, value)
    event = parse_event(*structured(text))
    assert isinstance(event.data, ReviewRecorded)
    assert (event.data.subject, event.data.verdict, event.data.reviewer) == (
        "7f1e2d3c-run-42",
        "rejected",
        "Beth Anglin",
    )
    assert event.time == datetime(2026, 11, 15, 10, 5, tzinfo=UTC)
