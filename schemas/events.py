"""The `data` payloads of the outcome event types (docs/REFERENCE.md#events, binding).

Every model forbids unknown fields, requires finite non-negative numbers and lowercase
names, so producers in any language can validate against the generated JSON Schema.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from schemas.names import NAME_PATTERN

MAX_WINDOW_S: Final = 3600.0

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
"""A project, automation or service name: lowercase, 1 to 63 characters."""

MAX_MAGNITUDE: Final = 1e15
"""The largest amount, duration or token count an event may carry, as a cost statement's
amounts have at most 15 integer digits. The engine counts money in billionths, exactly
(`collector.engine.units`): up to this bound that takes 24 digits, within the 28 of its
decimal arithmetic; 1e300 overflowed it. No real bill, run or model call comes near it."""

NonNegative = Annotated[float, Field(ge=0, le=MAX_MAGNITUDE, allow_inf_nan=False, strict=True)]
Positive = Annotated[float, Field(gt=0, le=MAX_MAGNITUDE, allow_inf_nan=False, strict=True)]


def _not_zero(value: float) -> float:
    if value == 0:
        raise ValueError("must not be 0 (a credit or a correction is negative)")
    return value


NonZero = Annotated[
    float,
    Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False, strict=True),
    AfterValidator(_not_zero),
]


def _rfc3339_text(value: object) -> object:
    if isinstance(value, str | datetime):
        return value
    raise ValueError("must be an RFC 3339 timestamp string with a timezone")


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
"""An RFC 3339 timestamp with a timezone; numbers are refused."""
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class EventType(StrEnum):
    """The CloudEvents `type` values the collector understands."""

    RUN_FINISHED = "outcomes.run.finished"
    COST_INCURRED = "outcomes.cost.incurred"
    SAVINGS_REALIZED = "outcomes.savings.realized"
    AVAILABILITY_OBSERVED = "outcomes.availability.observed"
    INCIDENT_OPENED = "outcomes.incident.opened"
    INCIDENT_RESOLVED = "outcomes.incident.resolved"
    AI_USAGE = "outcomes.ai.usage"
    REVIEW_RECORDED = "outcomes.review.recorded"
    COST_STATEMENT = "outcomes.cost.statement"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    project: Name


class RunFinished(_Data):
    """One automation run ended. Durations in seconds, `cost` in the reporting currency."""

    automation: Name
    outcome: Literal["succeeded", "failed", "cancelled"]
    duration_s: NonNegative | None = Field(
        default=None, description="How long the run took; absent when the source does not say."
    )
    manual_duration_s: NonNegative = Field(
        description="Time a person would need to do this by hand (the baseline)."
    )
    human_effort_s: NonNegative = Field(
        description="Time people spent on this run: approval, intervention, clean-up."
    )
    cost: NonNegative = Field(description="Direct run cost: compute, API, licence.")
    currency: Currency | None = None
    links: list[Annotated[str, StringConstraints(max_length=2048)]] | None = Field(
        default=None, max_length=32
    )


class CostIncurred(_Data):
    """Money spent on the project outside individual runs; a negative amount is a credit or
    a correction from a bill, and lowers the cost."""

    amount: NonZero
    category: Literal["compute", "licence", "labour", "services", "other"]
    currency: Currency | None = None
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None


class SavingsRealized(_Data):
    """Money the project saved, with how it was measured."""

    amount: Positive
    category: Literal["cloud", "licence", "labour", "incident", "other"]
    basis: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    evidence: Literal["measured", "estimated"] = Field(
        default="estimated",
        description="measured: read off a bill, invoice or meter; estimated (the default):"
        " computed from assumptions",
    )
    currency: Currency | None = None


class AvailabilityObserved(_Data):
    """Downtime of one service over one observation window of at most an hour."""

    service: Name
    window_start: Timestamp
    window_end: Timestamp
    downtime_s: NonNegative

    @model_validator(mode="after")
    def _check_window(self) -> AvailabilityObserved:
        length_s = self.window_length_s
        if not 0 < length_s <= MAX_WINDOW_S:
            raise ValueError(
                f"window_end - window_start must be > 0 and <= {MAX_WINDOW_S:.0f} s,"
                f" got {length_s} s"
            )
        if self.downtime_s > length_s:
            raise ValueError(f"downtime_s {self.downtime_s} exceeds the window length {length_s} s")
        return self

    @property
    def window_length_s(self) -> float:
        return (self.window_end - self.window_start).total_seconds()


IncidentKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:/-]{1,128}$")]
"""The incident's key in its source (an alert fingerprint, a PagerDuty incident id)."""
Title = Annotated[str, StringConstraints(max_length=512)]
Severity = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class IncidentOpened(_Data):
    """An incident of one service started; the event time is when it started."""

    service: Name
    incident: IncidentKey
    title: Title | None = None
    severity: Severity | None = None


class IncidentResolved(_Data):
    """An incident of one service ended; the event time is when it ended."""

    service: Name
    incident: IncidentKey
    started_at: Timestamp | None = Field(
        default=None,
        description="When the incident started, if the source knows it; else the matching"
        " outcomes.incident.opened gives it.",
    )
    resolved_by: Literal["automation", "person"] | None = None
    title: Title | None = None
    severity: Severity | None = None


Tokens = Annotated[int, Field(ge=0, le=int(MAX_MAGNITUDE), strict=True)]
"""A token count: a whole number, never negative, at most 10**15."""
ModelName = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,256}$")]
"""The model that answered, as its provider names it (`gpt-4o-mini-2024-07-18`,
`anthropic.claude-3-haiku-20240307-v1:0`): 1 to 256 printable characters."""


class AiUsage(_Data):
    """One model call: its tokens and, when the provider reported it, its cost. The event
    time is when the call ended. Tokens follow the OpenTelemetry GenAI conventions:
    `input_tokens` includes cached ones, `output_tokens` includes reasoning."""

    automation: Name = Field(description="The agent, workflow or service that called.")
    provider: Name = Field(description="The OpenTelemetry `gen_ai.provider.name`: openai, …")
    model: ModelName
    operation: Name = Field(description="chat, text_completion, generate_content, embeddings, …")
    input_tokens: Tokens
    output_tokens: Tokens
    cache_read_tokens: Tokens | None = None
    cache_write_tokens: Tokens | None = None
    reasoning_tokens: Tokens | None = None
    cost: NonNegative | None = Field(
        default=None, description="What the provider reported the call cost (reporting currency)."
    )
    currency: Currency | None = None

    @model_validator(mode="after")
    def _check_tokens(self) -> AiUsage:
        cached = (self.cache_read_tokens or 0) + (self.cache_write_tokens or 0)
        if cached > self.input_tokens:
            raise ValueError(
                f"cache_read_tokens + cache_write_tokens ({cached}) exceed input_tokens"
                f" ({self.input_tokens}): input tokens include cached ones"
            )
        if (self.reasoning_tokens or 0) > self.output_tokens:
            raise ValueError(
                f"reasoning_tokens ({self.reasoning_tokens}) exceed output_tokens"
                f" ({self.output_tokens}): output tokens include reasoning"
            )
        return self


EventId = Annotated[str, StringConstraints(min_length=1, max_length=256)]
VERDICTS: Final = ("accepted", "edited", "rejected", "escalated")
Verdict = Literal["accepted", "edited", "rejected", "escalated"]


class ReviewRecorded(_Data):
    """A person's verdict on one run of the same project: the run's time saved counts only
    when its output was accepted or edited. The event time is when the verdict was given."""

    automation: Name
    subject: EventId = Field(description="The `id` of the reviewed `outcomes.run.finished` event.")
    verdict: Verdict = Field(
        description="accepted: used as is; edited: used after a fix-up; rejected: thrown away,"
        " the work was done by hand; escalated: handed to a person who did the work."
    )
    human_effort_s: NonNegative | None = Field(
        default=None, description="Time the review and any fix-up took (human effort)."
    )
    reviewer: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="Who reviewed (free text; never a metric label)."
    )


Amount = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,9})?$")]
"""An exact decimal amount as text (`-12.345678901` has too many decimals: at most 9)."""
CostCategory = Literal["compute", "licence", "labour", "services", "other"]
MAX_STATEMENT_LINES: Final = 10_000


class StatementLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    day: date = Field(description="The charge day (UTC) the amount belongs to.")
    category: CostCategory
    amount: Amount = Field(description="Exact, as text; negative for credits and corrections.")


class CostStatement(_Data):
    """One project's part of a cloud bill's statement (`outcomes import focus`): its cost
    lines as of `issued_at`. A later statement of the same `statement` replaces this one
    exactly — lines it no longer has count no more; no lines: the project has no cost in it
    any longer. The same `version` again changes nothing."""

    statement: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="The statement's identity: provider / billing account / billing period."
    )
    version: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8,64}$")] = Field(
        description="A digest of the whole statement's content (all projects)."
    )
    issued_at: Timestamp = Field(description="When this statement was imported: later wins.")
    lines: Annotated[tuple[StatementLine, ...], Field(max_length=MAX_STATEMENT_LINES)]
    currency: Currency | None = None

    @model_validator(mode="after")
    def _check_lines(self) -> CostStatement:
        keys = [(line.day, line.category) for line in self.lines]
        if len(set(keys)) != len(keys):
            raise ValueError("lines: one line per (day, category)")
        return self


IncidentData = IncidentOpened | IncidentResolved
EventData = (
    RunFinished | CostIncurred | SavingsRealized | AvailabilityObserved | IncidentOpened
) | (IncidentResolved | AiUsage | ReviewRecorded | CostStatement)

DATA_MODELS: Final[dict[EventType, type[EventData]]] = {
    EventType.RUN_FINISHED: RunFinished,
    EventType.COST_INCURRED: CostIncurred,
    EventType.SAVINGS_REALIZED: SavingsRealized,
    EventType.AVAILABILITY_OBSERVED: AvailabilityObserved,
    EventType.INCIDENT_OPENED: IncidentOpened,
    EventType.INCIDENT_RESOLVED: IncidentResolved,
    EventType.AI_USAGE: AiUsage,
    EventType.REVIEW_RECORDED: ReviewRecorded,
    EventType.COST_STATEMENT: CostStatement,
}


def money_currency(data: EventData) -> str | None:
    """The currency an event declares for its money fields, if any."""
    if isinstance(data, RunFinished | CostIncurred | SavingsRealized | AiUsage | CostStatement):
        return data.currency
    return None
