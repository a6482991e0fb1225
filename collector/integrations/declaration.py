"""`kind: Integration` documents (docs/REFERENCE.md#declarations), validated with pydantic.

A rule's `match` globs and its templates may only name the fields of its tool type;
templates are `{field}` placeholders, the result lowercased. A template without
placeholders is checked as a name here; the others when a delivery fills them in.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.names import NAME_PATTERN

IntegrationType = Literal[
    "github",
    "gitlab",
    "jenkins",
    "awx",
    "tekton",
    "cdevents",
    "alertmanager",
    "pagerduty",
    "otlp",
]
FIELDS: dict[str, tuple[str, ...]] = {
    "github": ("repository", "workflow", "job", "branch", "event"),
    "gitlab": ("project", "pipeline", "job", "stage", "ref"),
    "jenkins": ("job",),
    "awx": ("template", "playbook", "inventory", "project"),
    "tekton": ("namespace", "pipeline", "task"),
    "cdevents": ("source", "pipeline", "task", "service", "environment"),
    "alertmanager": (),  # any alert label: labels.<name>
    "pagerduty": ("service", "urgency", "priority", "team"),
    "otlp": (),  # any span attribute, or resource.<key>
}
JOB_FIELD: dict[str, str] = {"github": "job", "gitlab": "job", "cdevents": "task", "tekton": "task"}
"""A rule that matches on this field takes job-level deliveries (GitHub workflow_job,
GitLab Job Hook, CDEvents and Tekton taskruns); one without takes whole runs."""
INCIDENT_TYPES = frozenset({"alertmanager", "pagerduty"})
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")
_NAME = re.compile(NAME_PATTERN)

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Template = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_ATTRIBUTE = re.compile(r"^[A-Za-z0-9_.]+$")


def known_field(kind: str, name: str) -> bool:
    if kind == "alertmanager":
        return name.startswith("labels.") and len(name) > len("labels.")
    if kind == "otlp":
        return bool(_ATTRIBUTE.match(name)) and name != "resource."
    return name in FIELDS[kind]


def render(template: str, fields: dict[str, str] | None = None) -> str:
    """`template` with its placeholders filled from `fields` (absent: empty), lowercased."""
    values = fields or {}
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template).lower()


class Secret(_Strict):
    """Where the shared secret is: an environment variable or a file (never inline)."""

    env: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one_place(self) -> Secret:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env or file")
        return self

    def value(self) -> bytes | None:
        """The secret's bytes (surrounding whitespace removed), or None when not set."""
        if self.env is not None:
            found = os.environ.get(self.env)
            return found.strip().encode() if found else None
        assert self.file is not None
        try:
            return self.file.read_bytes().strip() or None
        except OSError:
            return None


VerdictName = Literal["accepted", "edited", "rejected", "escalated"]
DEFAULT_VERDICTS: Final[dict[str, VerdictName]] = {
    "accepted": "accepted",
    "edited": "edited",
    "rejected": "rejected",
    "escalated": "escalated",
}


class ReviewRule(_Strict):
    """otlp: which `gen_ai.evaluation.result` events are a person's verdict on a run."""

    evaluation: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    """Their `gen_ai.evaluation.name`."""
    verdicts: dict[Annotated[str, StringConstraints(min_length=1)], VerdictName] = Field(
        default_factory=lambda: dict(DEFAULT_VERDICTS)
    )
    """`gen_ai.evaluation.score.label` -> verdict (labels compared case-insensitively)."""
    humanEffortS: Amount | None = None  # noqa: N815
    """Review effort when the event does not say (`outcomes.review.human_effort_s`)."""


class Rule(_Strict):
    match: dict[str, Annotated[str, StringConstraints(min_length=1)]] = {}
    project: Template
    automation: Template | None = None
    service: Template | None = None
    manualDurationS: Amount = 0.0  # noqa: N815
    humanEffortS: Amount = 0.0  # noqa: N815
    cost: Amount = 0.0
    costPerHour: Amount = 0.0  # noqa: N815
    review: ReviewRule | None = None
    """otlp only: evaluation results that are reviews of the runs this rule maps."""

    def templates(self) -> dict[str, str]:
        named = {"project": self.project, "automation": self.automation, "service": self.service}
        return {key: value for key, value in named.items() if value is not None}


SHARED_RECEIVERS = frozenset({"alertmanager", "pagerduty"})
"""Tools whose receivers teams share: what no rule maps is another team's, not ours."""


class IntegrationSpec(_Strict):
    type: IntegrationType
    secret: Secret
    rules: list[Rule] = Field(min_length=1)
    unmatched: Literal["ignore", "deadletter"] | None = None
    """What becomes of a delivery no rule maps: `ignore` (answered and counted, kept
    nowhere) or `deadletter` (kept for a replay). Default: ignore for alertmanager and
    pagerduty (shared receivers), deadletter for the others."""

    @property
    def dead_letters_unmatched(self) -> bool:
        if self.unmatched is not None:
            return self.unmatched == "deadletter"
        return self.type not in SHARED_RECEIVERS

    @model_validator(mode="after")
    def _rules_fit_the_type(self) -> IntegrationSpec:
        for position, rule in enumerate(self.rules):
            problems = _rule_problems(self.type, rule)
            if problems:
                raise ValueError(f"rules[{position}]: " + "; ".join(problems))
        return self


def _field_problems(kind: str, rule: Rule) -> list[str]:
    """Match fields and template placeholders the type does not have; invalid names."""
    problems = [
        f"match: {name!r} is not a {kind} field"
        for name in rule.match
        if not known_field(kind, name)
    ]
    for key, template in rule.templates().items():
        unknown = [n for n in PLACEHOLDER.findall(template) if not known_field(kind, n)]
        problems += [f"{key}: {{{name}}} is not a {kind} field" for name in unknown]
        if not PLACEHOLDER.search(template) and not _NAME.match(template.lower()):
            problems.append(f"{key}: {template!r} is not a valid name ({NAME_PATTERN})")
    return problems


def _rule_problems(kind: str, rule: Rule) -> list[str]:
    problems = _field_problems(kind, rule)
    if kind == "cdevents":
        if (rule.automation is None) == (rule.service is None):
            problems.append(
                "give automation (a rule for pipeline and task runs) or service (a rule for"
                " incidents), not both"
            )
        elif rule.service is not None and JOB_FIELD[kind] in rule.match:
            problems.append("service: a rule matching task takes task runs, not incidents")
        return problems
    if kind == "otlp":  # automation defaults to the resource's service.name
        if rule.service is not None:
            problems.append("service: otlp spans are model calls and runs, not incidents")
        return problems
    if rule.review is not None:
        problems.append("review: only otlp integrations receive evaluation results")
    needed = "service" if kind in INCIDENT_TYPES else "automation"
    unwanted = "automation" if kind in INCIDENT_TYPES else "service"
    if getattr(rule, needed) is None:
        problems.append(f"{needed}: required for {kind} rules")
    if getattr(rule, unwanted) is not None:
        problems.append(
            f"{unwanted}: {kind} deliveries are {'incidents' if kind in INCIDENT_TYPES else 'runs'}"
        )
    return problems


class IntegrationMetadata(_Strict):
    name: Name


class IntegrationDeclaration(_Strict):
    apiVersion: Literal["outcomes/v1"]  # noqa: N815
    kind: Literal["Integration"]
    metadata: IntegrationMetadata
    spec: IntegrationSpec

    @property
    def name(self) -> str:
        return self.metadata.name
