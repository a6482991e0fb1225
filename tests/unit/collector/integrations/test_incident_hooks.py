"""Incident sources (Alertmanager, PagerDuty, CDEvents) -> outcome incident events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collector.declarations.loader import load_file
from collector.integrations.declaration import IntegrationDeclaration
from collector.integrations.deliver import receive
from collector.integrations.model import Accepted, Ignored, Invalid, Unmapped
from schemas.events import IncidentOpened, IncidentResolved

PAYLOADS = Path(__file__).parent / "payloads"


def declared(tmp_path: Path, kind: str, rules: str) -> IntegrationDeclaration:
    path = tmp_path / f"{kind}.yaml"
    path.write_text(
        f"apiVersion: outcomes/v1\nkind: Integration\nmetadata: {{name: {kind}-hook}}\n"
        f"spec:\n  type: {kind}\n  secret: {{env: HOOK_SECRET}}\n  rules:\n{rules}"
    )
    found, errors = load_file(path)
    assert errors == [], errors
    declaration = found[0].declaration
    assert isinstance(declaration, IntegrationDeclaration)
    return declaration


def body(name: str, change: Any = None) -> bytes:
    document = json.loads((PAYLOADS / name).read_text())
    if change is not None:
        change(document)
    return json.dumps(document).encode()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


ALERTMANAGER = """\
    - match: {labels.service: "checkout-*"}
      project: checkout
      service: "{labels.service}"
"""


def test_alertmanager_firing_opens_resolved_resolves_others_are_not_ours(tmp_path: Path) -> None:
    result = receive(
        declared(tmp_path, "alertmanager", ALERTMANAGER), {}, body("alertmanager-v4-mixed.json")
    )
    assert isinstance(result, Accepted)
    opened, resolved = result.events  # the billing-db alert matches no rule: not ours
    assert isinstance(opened.data, IncidentOpened) and isinstance(resolved.data, IncidentResolved)
    assert (opened.data.project, opened.data.service, opened.time) == (
        "checkout",
        "checkout-api",
        at("2026-11-15T10:00:00Z"),
    )
    assert opened.data.incident == "c4a3f1e2b5d60718/2026-11-15T10:00:00Z"
    assert (opened.data.title, opened.data.severity) == ("checkout 5xx above 5%", "critical")
    # resolved: ends at endsAt, starts at startsAt (an offset normalised to UTC)
    assert resolved.data.incident == "0f9e8d7c6b5a4938/2026-11-15T08:00:00Z"
    assert resolved.data.started_at == at("2026-11-15T08:00:00Z")
    assert resolved.time == at("2026-11-15T08:45:30.250Z")
    assert resolved.data.title == "CheckoutErrors"  # no summary: the alert's name
    assert (opened.source, opened.id) == (
        "http://alertmanager.example:9093",
        f"{opened.data.incident}/opened",
    )


def test_alertmanager_repeats_make_the_same_events(tmp_path: Path) -> None:
    """A firing alert is re-sent every repeat_interval: the same event id (a duplicate
    downstream); the same alert firing again later is another incident."""
    declaration = declared(tmp_path, "alertmanager", ALERTMANAGER)
    first = receive(declaration, {}, body("alertmanager-v4-mixed.json"))
    again = receive(declaration, {}, body("alertmanager-v4-mixed.json"))
    assert isinstance(first, Accepted) and isinstance(again, Accepted)
    assert [e.id for e in first.events] == [e.id for e in again.events]

    def refire(document: dict[str, Any]) -> None:
        document["alerts"][0]["startsAt"] = "2026-11-15T11:00:00Z"

    later = receive(declaration, {}, body("alertmanager-v4-mixed.json", refire))
    assert isinstance(later, Accepted)
    assert later.events[0].data.incident != first.events[0].data.incident  # type: ignore[union-attr]


def test_alertmanager_nothing_matched_is_unmapped_and_bad_shapes_are_malformed(
    tmp_path: Path,
) -> None:
    rules = '    - match: {labels.team: "payments"}\n      project: pay\n      service: "{labels.service}"\n'
    result = receive(
        declared(tmp_path, "alertmanager", rules), {}, body("alertmanager-v4-mixed.json")
    )
    assert isinstance(result, Unmapped) and "no rule matched this incident" in result.detail


PAGERDUTY = """\
    - match: {service: "API*", urgency: high}
      project: checkout
      service: checkout-api
"""


def test_pagerduty_triggered_opens_and_resolved_says_who(tmp_path: Path) -> None:
    declaration = declared(tmp_path, "pagerduty", PAGERDUTY)
    opened = receive(declaration, {}, body("pagerduty-incident-triggered.json"))
    resolved = receive(declaration, {}, body("pagerduty-incident-resolved.json"))
    assert isinstance(opened, Accepted) and isinstance(resolved, Accepted)
    (start,), (end,) = opened.events, resolved.events
    assert isinstance(start.data, IncidentOpened) and isinstance(end.data, IncidentResolved)
    assert start.data.incident == end.data.incident == "pagerduty/PGR0VU2"
    assert (start.time, end.time) == (at("2026-11-15T09:30:00Z"), at("2026-11-15T10:15:00Z"))
    assert (start.id, start.source) == ("01DEN3ZC5Y2J8Q7KAF0GHZKM1X", "pagerduty")
    assert (end.data.resolved_by, end.data.started_at) == ("person", None)  # a user resolved it

    def by_integration(document: dict[str, Any]) -> None:
        document["event"]["agent"]["type"] = "service_reference"

    auto = receive(declaration, {}, body("pagerduty-incident-resolved.json", by_integration))
    assert isinstance(auto, Accepted) and auto.events[0].data.resolved_by == "automation"  # type: ignore[union-attr]


def test_pagerduty_reopened_opens_and_acknowledged_is_ignored(tmp_path: Path) -> None:
    declaration = declared(tmp_path, "pagerduty", PAGERDUTY)

    def as_kind(kind: str) -> Any:
        def change(document: dict[str, Any]) -> None:
            document["event"]["event_type"] = kind

        return change

    reopened = receive(
        declaration, {}, body("pagerduty-incident-triggered.json", as_kind("incident.reopened"))
    )
    assert isinstance(reopened, Accepted) and isinstance(reopened.events[0].data, IncidentOpened)
    for kind in ("incident.acknowledged", "incident.escalated", "incident.annotated"):
        assert isinstance(
            receive(declaration, {}, body("pagerduty-incident-triggered.json", as_kind(kind))),
            Ignored,
        )


CDEVENTS = """\
    - match: {service: "myapp"}
      project: checkout
      service: "{service}"
    - match: {pipeline: "*"}
      project: checkout
      automation: "ci-{pipeline}"
"""


def test_cdevents_incidents_pair_by_subject_and_runs_still_map(tmp_path: Path) -> None:
    declaration = declared(tmp_path, "cdevents", CDEVENTS)
    detected = receive(declaration, {}, body("cdevents-incident-detected-0.5.json"))
    resolved = receive(declaration, {}, body("cdevents-incident-resolved-0.5.json"))
    assert isinstance(detected, Accepted) and isinstance(resolved, Accepted)
    (start,), (end,) = detected.events, resolved.events
    assert isinstance(start.data, IncidentOpened) and isinstance(end.data, IncidentResolved)
    assert start.data.incident == end.data.incident == "incident-123"
    assert (start.data.service, start.data.title) == ("myapp", "Response time above 10ms")
    assert (start.time, end.time) == (at("2026-11-15T11:00:00Z"), at("2026-11-15T11:20:00Z"))
    run = receive(declaration, {}, body("cdevents-pipelinerun-finished-0.5.json"))
    assert isinstance(run, Accepted) and run.events[0].type.value == "outcomes.run.finished"


def test_a_bad_incident_key_refuses_the_delivery(tmp_path: Path) -> None:
    def spaced(document: dict[str, Any]) -> None:
        document["subject"]["id"] = "incident 123"

    result = receive(
        declared(tmp_path, "cdevents", CDEVENTS),
        {},
        body("cdevents-incident-detected-0.5.json", spaced),
    )
    assert isinstance(result, Invalid) and "data.incident" in result.detail


def test_incident_rules_need_a_service_and_run_rules_an_automation(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "apiVersion: outcomes/v1\nkind: Integration\nmetadata: {name: am}\nspec:\n  type: alertmanager\n"
        "  secret: {env: S}\n  rules:\n    - project: p\n      automation: a\n"
    )
    _, errors = load_file(path)
    assert any("service: required for alertmanager rules" in str(e) for e in errors), errors
    path.write_text(
        path.read_text()
        .replace("alertmanager", "cdevents")
        .replace("automation: a", "service: s\n      automation: a")
    )
    _, errors = load_file(path)
    assert any("not both" in str(e) for e in errors), errors


def test_cdevents_that_reuse_one_context_id_are_different_facts(tmp_path: Path) -> None:
    """The conformance samples of detected, reported and resolved share one `context.id`:
    the resolution must not be taken for a duplicate of the detection."""

    def shared(document: dict[str, Any]) -> None:
        document["context"]["id"] = "271069a8-fc18-44f1-b38f-9d70a1695819"

    declaration = declared(tmp_path, "cdevents", CDEVENTS)
    detected = receive(declaration, {}, body("cdevents-incident-detected-0.5.json", shared))
    resolved = receive(declaration, {}, body("cdevents-incident-resolved-0.5.json", shared))
    assert isinstance(detected, Accepted) and isinstance(resolved, Accepted)
    ids = {detected.events[0].id, resolved.events[0].id}
    assert ids == {
        "incident.detected/271069a8-fc18-44f1-b38f-9d70a1695819",
        "incident.resolved/271069a8-fc18-44f1-b38f-9d70a1695819",
    }
    again = receive(declaration, {}, body("cdevents-incident-resolved-0.5.json", shared))
    assert isinstance(again, Accepted) and again.events[0].id in ids  # a redelivery: the same
