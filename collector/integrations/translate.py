"""Rules applied to a tool's facts: the first matching rule makes the outcome event."""

from __future__ import annotations

import fnmatch

from collector.integrations.declaration import (
    JOB_FIELD,
    IntegrationDeclaration,
    Rule,
    render,
)
from collector.integrations.model import (
    Accepted,
    Ignored,
    IncidentChange,
    IncidentFacts,
    Invalid,
    RunFacts,
    Translation,
    Unmapped,
)
from schemas.binding import format_time
from schemas.envelope import EventError, parse_event


def takes(rule: Rule, kind: str, facts: RunFacts | IncidentChange) -> bool:
    """Whether `rule` is for this level (run, job or incident) and all its globs match.

    A rule naming a `service` takes incidents, one naming an `automation` runs (a
    cdevents integration may hold both kinds)."""
    job_field = JOB_FIELD.get(kind)
    on_jobs = job_field is not None and job_field in rule.match
    if isinstance(facts, IncidentChange):
        if rule.service is None or on_jobs:
            return False
    elif rule.automation is None or ("job" if on_jobs else "run") != facts.level:
        return False
    return all(
        name in facts.fields and fnmatch.fnmatchcase(facts.fields[name], pattern)
        for name, pattern in rule.match.items()
    )


def first_rule(
    declaration: IntegrationDeclaration, facts: RunFacts | IncidentChange
) -> Rule | None:
    kind = declaration.spec.type
    return next((rule for rule in declaration.spec.rules if takes(rule, kind, facts)), None)


def run_data(rule: Rule, facts: RunFacts) -> dict[str, object]:
    fields = dict(facts.fields)
    cost = rule.cost + rule.costPerHour * (facts.duration_s or 0.0) / 3600
    data: dict[str, object] = {
        "project": render(rule.project, fields),
        "automation": render(rule.automation or "", fields),
        "outcome": facts.outcome,
        "manual_duration_s": rule.manualDurationS,
        "human_effort_s": rule.humanEffortS,
        "cost": round(cost, 6),
    }
    if facts.duration_s is not None:
        data["duration_s"] = round(facts.duration_s, 6)
    if facts.links:
        data["links"] = list(facts.links)
    return data


def incident_event(rule: Rule, change: IncidentChange) -> tuple[dict[str, str], dict[str, object]]:
    """(CloudEvents attributes, data) of one incident change under `rule`."""
    fields = dict(change.fields)
    data: dict[str, object] = {
        "project": render(rule.project, fields),
        "service": render(rule.service or "", fields),
        "incident": change.key,
    }
    optional = {"title": change.title, "severity": change.severity}
    if change.state == "resolved":
        optional["resolved_by"] = change.resolved_by
        optional["started_at"] = None if change.started is None else format_time(change.started)
    data.update({name: value for name, value in optional.items() if value is not None})
    attributes = {
        "specversion": "1.0",
        "id": change.event_id,
        "source": change.source,
        "type": f"outcomes.incident.{change.state}",
        "time": format_time(change.at),
    }
    return attributes, data


def translate_incidents(declaration: IntegrationDeclaration, facts: IncidentFacts) -> Translation:
    """Every change a rule maps becomes an event; changes no rule maps are not ours (other
    teams' alerts share a receiver). None mapped: the delivery is unmapped. One change that
    makes an invalid event refuses the whole delivery (kept for a replay once fixed)."""
    events = []
    for change in facts.changes:
        rule = first_rule(declaration, change)
        if rule is None:
            continue
        try:
            events.append(parse_event(*incident_event(rule, change)))
        except EventError as error:
            return Invalid(
                f"integration {declaration.name!r}: incident {change.key}: {error.detail}"
            )
    if not events:
        return Unmapped(facts.changes[0].fields, "incident")
    return Accepted(tuple(events))


def translate(
    declaration: IntegrationDeclaration, facts: RunFacts | IncidentFacts | Ignored
) -> Translation:
    if isinstance(facts, Ignored):
        return facts
    if isinstance(facts, IncidentFacts):
        return translate_incidents(declaration, facts)
    rule = first_rule(declaration, facts)
    if rule is None:
        return Unmapped(facts.fields, facts.level)
    data = run_data(rule, facts)
    attributes = {
        "specversion": "1.0",
        "id": facts.key,
        "source": facts.source,
        "type": "outcomes.run.finished",
        "time": format_time(facts.finished),
    }
    try:
        event = parse_event(attributes, data)
    except EventError as error:
        return Invalid(f"integration {declaration.name!r}: {error.detail}")
    return Accepted((event,))
