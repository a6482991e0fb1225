"""Fuzzed deliveries of every tool (mutated public samples, random JSON, random bytes) and
OTLP requests: each is translated or refused as malformed with a reason — never another
exception — and whatever is accepted is a valid outcome event. Authentication never
raises on hostile headers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.declarations.loader import load_file
from collector.integrations.auth import authentic
from collector.integrations.declaration import IntegrationDeclaration
from collector.integrations.deliver import receive
from collector.integrations.model import Accepted, Ignored, Invalid, MalformedError, Unmapped
from collector.integrations.otlp import Result, decode_logs, decode_traces, log_items, span_items
from schemas.envelope import OutcomeEvent
from schemas.events import DATA_MODELS
from tests.support.mutate import bodies

PAYLOADS = Path(__file__).parent / "payloads"
SAMPLES: dict[str, tuple[str, dict[str, str]]] = {
    "github": ("github-workflow_run-completed.json", {"x-github-event": "workflow_run"}),
    "gitlab": ("gitlab-pipeline-hook.json", {"x-gitlab-event": "Pipeline Hook"}),
    "jenkins": ("jenkins-notification.json", {}),
    "awx": ("awx-notification.json", {}),
    "tekton": ("tekton-pipelinerun-successful.json", {}),
    "cdevents": ("cdevents-pipelinerun-finished-0.5.json", {}),
    "alertmanager": ("alertmanager-v4-mixed.json", {}),
    "pagerduty": ("pagerduty-incident-triggered.json", {}),
}
"""The public sample each fuzzed delivery starts from (payloads/README.md names its source)."""
RULES = {
    "alertmanager": '    - match: {labels.service: "*"}\n      project: fuzz\n      service: svc\n',
    "pagerduty": '    - match: {service: "*"}\n      project: fuzz\n      service: svc\n',
}
RUN_RULE = (
    '    - match: {}\n      project: fuzz\n      automation: "a"\n      manualDurationS: 60\n'
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _declared(folder: Path, kind: str) -> IntegrationDeclaration:
    path = folder / f"{kind}.yaml"
    path.write_text(
        f"apiVersion: outcomes/v1\nkind: Integration\nmetadata: {{name: fuzz-{kind}}}\n"
        f"spec:\n  type: {kind}\n  secret: {{env: FUZZ_SECRET}}\n  rules:\n"
        + RULES.get(kind, RUN_RULE)
    )
    found, errors = load_file(path)
    assert errors == [], errors
    declaration = found[0].declaration
    assert isinstance(declaration, IntegrationDeclaration)
    return declaration


def _valid(event: OutcomeEvent) -> None:
    """What an adapter accepts is an outcome event its own schema takes back."""
    model = DATA_MODELS[event.type]
    assert model.model_validate(event.data.model_dump()) == event.data
    assert event.id and event.source and event.time.tzinfo is not None


def _sample(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_tool_delivery_is_translated_or_refused_with_a_reason(
    kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    declaration = _declared(tmp_path_factory.mktemp(kind), kind)
    sample, headers = SAMPLES[kind]

    @FUZZ
    @given(body=bodies(_sample(sample)))
    def check(body: bytes) -> None:
        try:
            result = receive(declaration, headers, body)
        except MalformedError as refused:
            assert str(refused)
            return
        assert isinstance(result, Accepted | Ignored | Unmapped | Invalid)
        if isinstance(result, Accepted):
            for event in result.events:
                _valid(event)
        elif isinstance(result, Invalid | Unmapped):
            assert result.detail

    check()


@FUZZ
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                "authorization",
                "x-hub-signature-256",
                "x-gitlab-token",
                "x-pagerduty-signature",
                "webhook-signature",
                "webhook-id",
                "webhook-timestamp",
                "x-other",
            ]
        ),
        st.text(max_size=80),
        max_size=4,
    ),
    body=st.binary(max_size=100),
    kind=st.sampled_from([*SAMPLES, "otlp"]),
)
def test_authentication_answers_yes_or_no_to_any_headers(
    headers: dict[str, str], body: bytes, kind: str
) -> None:
    assert authentic(kind, headers, body, b"s3cret") in (True, False)


OTLP = '    - match: {}\n      project: fuzz\n      automation: "{gen_ai.operation.name}"\n'


@pytest.mark.parametrize(
    "sample",
    ["otlp-official-openai-v2.json", "otlp-openllmetry-openai.json", "otlp-agent-spans.json",
     "otlp-openinference-openai.json", "otlp-evaluation-logs.json"],
)  # fmt: skip
def test_otlp_requests_are_decoded_or_refused_and_items_are_valid(
    sample: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("otlp")
    (folder / "otlp.yaml").write_text(
        "apiVersion: outcomes/v1\nkind: Integration\nmetadata: {name: fuzz-otlp}\n"
        "spec:\n  type: otlp\n  secret: {env: FUZZ_SECRET}\n  rules:\n" + OTLP
    )
    found, errors = load_file(folder / "otlp.yaml")
    assert errors == [], errors
    declaration = found[0].declaration
    assert isinstance(declaration, IntegrationDeclaration)
    logs = "Logs" in sample or "logs" in sample

    @FUZZ
    @given(body=bodies(_sample(sample)), media=st.sampled_from(["application/json",
                                                                 "application/x-protobuf"]))  # fmt: skip
    def check(body: bytes, media: str) -> None:
        try:
            if logs:
                items = list(log_items(declaration, decode_logs(body, media)))
            else:
                items = list(span_items(declaration, decode_traces(body, media), "USD"))
        except MalformedError as refused:
            assert str(refused)
            return
        for item in items:
            assert item.result in get_args(Result), item
            if item.event is not None:
                _valid(item.event)
            if item.result in ("unmapped", "invalid"):
                assert item.detail

    check()
