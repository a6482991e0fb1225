"""Rules applied to a tool's facts: the first matching rule makes the outcome event."""

from __future__ import annotations

import fnmatch

from collector.integrations.declaration import (
    JOB_FIELD,
    IntegrationDeclaration,
    Rule,
    render,
)
from collector.integrations.model import Accepted, Ignored, Invalid, RunFacts, Translation, Unmapped
from schemas.binding import format_time
from schemas.envelope import EventError, parse_event


def takes(rule: Rule, kind: str, facts: RunFacts) -> bool:
    """Whether `rule` is for this level (run or job) and all its globs match."""
    job_field = JOB_FIELD.get(kind)
    rule_level = "job" if job_field is not None and job_field in rule.match else "run"
    if rule_level != facts.level:
        return False
    return all(
        name in facts.fields and fnmatch.fnmatchcase(facts.fields[name], pattern)
        for name, pattern in rule.match.items()
    )


def first_rule(declaration: IntegrationDeclaration, facts: RunFacts) -> Rule | None:
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


def translate(declaration: IntegrationDeclaration, facts: RunFacts | Ignored) -> Translation:
    if isinstance(facts, Ignored):
        return facts
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
