"""The otlp translator on requests written after what each GenAI instrumentation library
writes (payloads/README.md): what becomes a model call, a run, ignored, unmapped or
invalid, through the attribute fallback chain; protobuf and JSON decode alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector.declarations.loader import load_file
from collector.integrations.declaration import IntegrationDeclaration
from collector.integrations.model import Accepted, Invalid, MalformedError, Unmapped
from collector.integrations.otlp import (
    JSON,
    PROTOBUF,
    Item,
    decode_logs,
    decode_traces,
    log_items,
    receive_otlp,
    span_items,
)

PAYLOADS = Path(__file__).parent / "payloads"
RULES = """\
apiVersion: outcomes/v1
kind: Integration
metadata: {name: ai-agents}
spec:
  type: otlp
  secret: {env: AI_AGENTS_OTLP_SECRET}
  rules:
    - match: {resource.service.name: "triage-*", gen_ai.agent.name: "triage"}
      project: ticket-triage
      automation: "{gen_ai.agent.name}"
      manualDurationS: 900
      humanEffortS: 60
      cost: 0.01
    - match: {resource.service.name: "triage-*"}
      project: ticket-triage
      review: {evaluation: human_review, verdicts: {accepted: accepted, rejected: rejected}}
"""
END = "2026-11-15T12:00:00"


def integration(text: str = RULES) -> IntegrationDeclaration:
    return IntegrationDeclaration.model_validate(yaml.safe_load(text))


def items(name: str, currency: str = "USD", rules: str = RULES) -> list[Item]:
    body = (PAYLOADS / name).read_bytes()
    return list(span_items(integration(rules), decode_traces(body, JSON), currency))


def data(item: Item) -> dict[str, Any]:
    assert item.event is not None, item
    return item.event.data.model_dump(exclude_none=True)


def test_the_official_instrumentation() -> None:
    chat, embedding, failed = items("otlp-official-openai-v2.json")
    assert chat.result == "usage"
    assert chat.event is not None
    assert chat.event.id == "5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174"
    assert chat.event.source == "otlp/ai-agents"
    assert chat.event.time.isoformat().startswith(END + ".85")
    assert data(chat) == {
        "project": "ticket-triage",
        "automation": "triage-bot",
        "provider": "openai",
        "model": "gpt-4o-mini-2024-07-18",
        "operation": "chat",
        "input_tokens": 42,
        "output_tokens": 17,
    }
    assert data(embedding) == {
        "project": "ticket-triage",
        "automation": "triage-bot",
        "provider": "openai",
        "model": "text-embedding-3-small",
        "operation": "embeddings",
        "input_tokens": 8,
        "output_tokens": 0,
    }
    # a failed call reports no usage: nothing to count
    assert (failed.result, failed.detail) == ("ignored", "a GenAI span without token usage")


def test_openllmetry_cache_and_reasoning_tokens() -> None:
    (chat,) = items("otlp-openllmetry-openai.json")
    assert data(chat) == {
        "project": "ticket-triage",
        "automation": "triage-bot",
        "provider": "openai",
        "model": "gpt-4o-mini-2024-07-18",
        "operation": "chat",
        "input_tokens": 1000,
        "output_tokens": 559,
        "cache_read_tokens": 400,
        "reasoning_tokens": 320,
    }


def test_openinference_names() -> None:
    chat, embedding = items("otlp-openinference-openai.json")
    assert data(chat) == {
        "project": "ticket-triage",
        "automation": "triage-bot",
        "provider": "openai",
        "model": "gpt-4o-mini-2024-07-18",
        "operation": "chat",
        "input_tokens": 42,
        "output_tokens": 17,
        "cache_read_tokens": 10,
    }
    assert data(embedding)["operation"] == "embeddings"
    assert data(embedding)["model"] == "text-embedding-3-small"
    assert data(embedding)["input_tokens"] == 8


def test_agent_spans_are_runs_and_their_usage_is_not_counted_again() -> None:
    succeeded, failed, tool, health, legacy = items("otlp-agent-spans.json")
    assert succeeded.result == "run"
    assert data(succeeded) == {
        "project": "ticket-triage",
        "automation": "triage",
        "outcome": "succeeded",
        "duration_s": 4.5,
        "manual_duration_s": 900.0,
        "human_effort_s": 60.0,
        "cost": 0.01,
    }
    assert data(failed)["outcome"] == "failed"
    assert data(failed)["duration_s"] == 2.0
    assert tool.result == health.result == "ignored"
    assert health.detail == "not a GenAI span"
    # the legacy names, matched by the second rule (no agent name on a model call)
    assert data(legacy) == {
        "project": "ticket-triage",
        "automation": "triage-bot",
        "provider": "openai",
        "model": "gpt-4",
        "operation": "chat",
        "input_tokens": 30,
        "output_tokens": 5,
    }


def request_with(**attributes: Any) -> bytes:
    document = json.loads((PAYLOADS / "otlp-official-openai-v2.json").read_text())
    span = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    for key, value in attributes.items():
        kind = {bool: "boolValue", int: "intValue", float: "doubleValue", str: "stringValue"}
        entry = {"key": key, "value": {kind[type(value)]: value}}
        span["attributes"] = [a for a in span["attributes"] if a["key"] != key] + [entry]
    document["resourceSpans"][0]["scopeSpans"][0]["spans"] = [span]
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("attributes", "currency", "reason"),
    [
        ({"gen_ai.usage.input_tokens": -1}, "USD", "must not be negative"),
        ({"gen_ai.usage.output_tokens": 4.5}, "USD", "whole number"),
        ({"gen_ai.usage.output_tokens": "17"}, "USD", "whole number"),
        ({"gen_ai.usage.output_tokens": True}, "USD", "whole number"),
        ({"gen_ai.usage.cost.amount": 0.2, "gen_ai.usage.cost.currency": "EUR"}, "USD", "EUR"),
        ({"gen_ai.usage.cost": 0.2}, "EUR", "taken as USD"),
        ({"gen_ai.usage.cache_read.input_tokens": 43}, "USD", "exceed input_tokens"),
        ({"gen_ai.operation.name": "Chat Completion"}, "USD", "operation"),
    ],
)
def test_values_that_cannot_be_counted_make_the_item_invalid(
    attributes: dict[str, Any], currency: str, reason: str
) -> None:
    (item,) = span_items(integration(), decode_traces(request_with(**attributes), JSON), currency)
    assert item.result == "invalid"
    assert reason in item.detail


def test_a_reported_cost_in_the_reporting_currency_is_kept() -> None:
    body = request_with(**{"gen_ai.usage.cost.amount": 0.0002, "gen_ai.usage.cost.currency": "usd"})
    (item,) = span_items(integration(), decode_traces(body, JSON), "USD")
    assert data(item)["cost"] == 0.0002


def test_unmapped_spans_are_kept_alone_with_their_resource_and_replay() -> None:
    others = RULES.replace('"triage-*"', '"summarizer"')
    chat, embedding, _ = items("otlp-official-openai-v2.json", rules=others)
    assert chat.result == embedding.result == "unmapped"
    assert "triage-bot" in chat.detail
    assert chat.letter is not None
    alone = decode_traces(chat.letter, JSON)
    (resource_spans,) = alone.resource_spans
    (span,) = resource_spans.scope_spans[0].spans
    assert span.span_id.hex() == "eee19b7ec3c1b174"
    assert resource_spans.resource.attributes[0].value.string_value == "triage-bot"
    assert isinstance(receive_otlp(integration(others), chat.letter), Unmapped)
    replayed = receive_otlp(integration(), chat.letter)
    assert isinstance(replayed, Accepted)
    assert replayed.events[0].id == chat_id()


def test_dead_letters_never_hold_credentials_or_prompts() -> None:
    others = RULES.replace('"triage-*"', '"summarizer"')
    (chat,) = items("otlp-openllmetry-openai.json", rules=others)
    assert chat.letter is not None
    assert b"never-copy-me" not in chat.letter
    assert b"gen_ai.usage.cache_read.input_tokens" in chat.letter
    replayed = receive_otlp(integration(), chat.letter)
    assert isinstance(replayed, Accepted)
    assert replayed.events[0].data.model_dump(exclude_none=True)["cache_read_tokens"] == 400


def chat_id() -> str:
    return "5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174"


def test_protobuf_and_json_decode_to_the_same_request() -> None:
    body = (PAYLOADS / "otlp-agent-spans.json").read_bytes()
    as_json = decode_traces(body, JSON)
    assert decode_traces(as_json.SerializeToString(), PROTOBUF) == as_json
    with pytest.raises(MalformedError):
        decode_traces(b"\x0a\xff\xff", PROTOBUF)
    with pytest.raises(MalformedError):
        decode_traces(b"[]", JSON)
    with pytest.raises(MalformedError, match="not hex"):
        decode_traces(b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}', JSON)


def test_an_invalid_rule_result_is_invalid_not_lost() -> None:
    bad = RULES.replace("project: ticket-triage\n", "project: '{resource.service.name} x'\n")
    assert isinstance(
        receive_otlp(integration(bad), (PAYLOADS / "otlp-openllmetry-openai.json").read_bytes()),
        Invalid,
    )


def test_otlp_rules_are_checked_like_every_integration(tmp_path: Path) -> None:
    path = tmp_path / "ai.yaml"
    path.write_text(RULES + "      service: db\n")
    found, errors = load_file(path)
    assert found == []
    (error,) = errors
    assert (error.line, error.field) == (17, "spec.rules.1.service")
    assert "otlp spans are model calls and runs, not incidents" in error.message


def review_items(rules: str = RULES) -> list[Item]:
    body = (PAYLOADS / "otlp-evaluation-logs.json").read_bytes()
    return list(log_items(integration(rules), decode_logs(body, JSON)))


def test_evaluation_results_named_as_the_rules_review_are_reviews_of_the_run() -> None:
    human, judge, plain, unknown = review_items()
    assert human.result == "review"
    assert human.event is not None
    # the subject is the id the agent span's run got (otlp-agent-spans.json)
    assert data(human) == {
        "project": "ticket-triage",
        "automation": "triage-bot",
        "subject": "5b8efff798038103d269b633813fc60c-ccc19b7ec3c1b170",
        "verdict": "rejected",  # "Rejected": labels are compared case-insensitively
        "human_effort_s": 240.0,
    }
    runs = items("otlp-agent-spans.json")
    assert runs[0].event is not None and runs[0].event.id == data(human)["subject"]
    assert human.event.id.startswith(data(human)["subject"] + "-review-")
    assert judge.result == "ignored" and "relevance" in judge.detail  # an LLM judge's score
    assert plain.result == "ignored"
    assert unknown.result == "invalid" and "'maybe'" in unknown.detail


def test_a_review_in_a_span_event_is_read_too() -> None:
    document = json.loads((PAYLOADS / "otlp-agent-spans.json").read_text())
    agent = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    agent["events"] = [
        {
            "timeUnixNano": "1794744600000000000",
            "name": "gen_ai.evaluation.result",
            "attributes": [
                {"key": "gen_ai.evaluation.name", "value": {"stringValue": "human_review"}},
                {"key": "gen_ai.evaluation.score.label", "value": {"stringValue": "accepted"}},
            ],
        }
    ]
    request = decode_traces(json.dumps(document).encode(), JSON)
    found = list(span_items(integration(), request, "USD"))
    reviews = [item for item in found if item.result == "review"]
    assert len(reviews) == 1
    assert data(reviews[0])["verdict"] == "accepted"
    assert data(reviews[0])["subject"] == "5b8efff798038103d269b633813fc60c-ccc19b7ec3c1b170"


def test_an_evaluation_no_rule_maps_is_kept_and_replays() -> None:
    others = RULES.replace('"triage-*"', '"summarizer"')
    human = review_items(others)[0]
    assert human.result == "unmapped"
    assert human.letter is not None
    assert b"wrong assignment group" not in human.letter  # explanations may quote the output
    assert isinstance(receive_otlp(integration(others), human.letter), Unmapped)
    replayed = receive_otlp(integration(), human.letter)
    assert isinstance(replayed, Accepted)
    assert replayed.events[0].type.value == "outcomes.review.recorded"


def test_a_review_rule_belongs_to_otlp_integrations(tmp_path: Path) -> None:
    path = tmp_path / "gh.yaml"
    path.write_text(
        "apiVersion: outcomes/v1\nkind: Integration\nmetadata: {name: gh}\nspec:\n"
        "  type: github\n  secret: {env: X}\n  rules:\n    - project: p\n      automation: a\n"
        "      review: {evaluation: human_review}\n"
    )
    found, errors = load_file(path)
    assert found == []
    assert "only otlp integrations receive evaluation results" in errors[0].message


def test_openinference_human_evaluations_on_the_span_are_reviews() -> None:
    """OpenInference's own form (its semantic conventions, `evaluations.{i}.evaluation.*`):
    a human annotation is a review, an LLM judge's is not."""
    document = json.loads((PAYLOADS / "otlp-agent-spans.json").read_text())
    agent = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    for key, value in {
        "evaluations.0.evaluation.name": "human_review",
        "evaluations.0.evaluation.label": "rejected",
        "evaluations.0.evaluation.annotator_kind": "HUMAN",
        "evaluations.1.evaluation.name": "human_review",
        "evaluations.1.evaluation.label": "accepted",
        "evaluations.1.evaluation.annotator_kind": "LLM",
    }.items():
        agent["attributes"].append({"key": key, "value": {"stringValue": value}})
    request = decode_traces(json.dumps(document).encode(), JSON)
    reviews = [i for i in span_items(integration(), request, "USD") if i.result == "review"]
    assert [data(item)["verdict"] for item in reviews] == ["rejected"]
    assert data(reviews[0])["subject"] == "5b8efff798038103d269b633813fc60c-ccc19b7ec3c1b170"


def test_a_review_in_a_span_event_replays_with_its_unmapped_span() -> None:
    document = json.loads((PAYLOADS / "otlp-agent-spans.json").read_text())
    agent = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    agent["events"] = [
        {"timeUnixNano": "1794744600000000000", "name": "gen_ai.evaluation.result",
         "attributes": [
             {"key": "gen_ai.evaluation.name", "value": {"stringValue": "human_review"}},
             {"key": "gen_ai.evaluation.score.label", "value": {"stringValue": "rejected"}},
             {"key": "gen_ai.evaluation.explanation", "value": {"stringValue": "wrong group"}},
         ]},
        {"timeUnixNano": "1794744600000000001", "name": "gen_ai.content.prompt",
         "attributes": [{"key": "gen_ai.prompt", "value": {"stringValue": "never-copy-me"}}]},
    ]  # fmt: skip
    others = RULES.replace('"triage-*"', '"summarizer"')
    request = decode_traces(json.dumps(document).encode(), JSON)
    run = next(i for i in span_items(integration(others), request, "USD") if i.letter)
    assert run.letter is not None
    assert b"never-copy-me" not in run.letter and b"wrong group" not in run.letter
    replayed = receive_otlp(integration(), run.letter)
    assert isinstance(replayed, Accepted)
    assert [e.type.value for e in replayed.events] == [
        "outcomes.run.finished", "outcomes.review.recorded"
    ]  # fmt: skip
