"""Integration declarations: validation with file and line, first-match rules, templates,
baselines and run cost, and the event a delivery becomes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from collector.declarations.loader import load_file
from collector.declarations.registry import DeclarationRegistry
from collector.integrations.declaration import IntegrationDeclaration
from collector.integrations.deliver import receive
from collector.integrations.model import Accepted, Ignored, Invalid, Unmapped
from schemas.events import RunFinished

PAYLOADS = Path(__file__).parent / "payloads"

GITHUB = """\
apiVersion: outcomes/v1
kind: Integration
metadata: {name: github-ci}
spec:
  type: github
  secret: {env: GITHUB_WEBHOOK_SECRET}
  rules:
    - match: {repository: "octo-org/*", job: "lint*"}
      project: release-automation
      automation: "job-{job}"
      manualDurationS: 60
    - match: {repository: "octo-org/*", workflow: "t*"}
      project: release-automation
      automation: "ci-{workflow}"
      manualDurationS: 1800
      humanEffortS: 120
      cost: 0.05
      costPerHour: 3.6
    - match: {repository: "octo-org/*"}
      project: release-automation
      automation: "other"
"""


def declared(tmp_path: Path, text: str) -> IntegrationDeclaration:
    path = tmp_path / "integration.yaml"
    path.write_text(text)
    found, errors = load_file(path)
    assert errors == []
    declaration = found[0].declaration
    assert isinstance(declaration, IntegrationDeclaration)
    return declaration


def delivery(sample: str, **changes: object) -> bytes:
    document = json.loads((PAYLOADS / sample).read_text())
    document["workflow_run"].update(changes)
    return json.dumps(document).encode()


def test_first_matching_rule_makes_the_event_with_baselines_and_cost(tmp_path: Path) -> None:
    integration = declared(tmp_path, GITHUB)
    result = receive(
        integration,
        {"x-github-event": "workflow_run"},
        delivery("github-workflow_run-completed.json"),
    )
    assert isinstance(result, Accepted)
    (event,) = result.events
    assert (event.source, event.id) == (
        "https://github.com/octo-org/octo-repo",
        "workflow_run/289782451/attempt/1",
    )
    data = event.data
    assert isinstance(data, RunFinished)
    assert (data.project, data.automation, data.outcome) == (
        "release-automation",
        "ci-test",
        "succeeded",
    )
    assert (data.manual_duration_s, data.human_effort_s, data.duration_s) == (1800, 120, 25)
    assert data.cost == pytest.approx(0.05 + 3.6 * 25 / 3600)
    assert event.time.isoformat() == "2020-10-05T16:33:49+00:00"


def test_job_rules_take_only_job_deliveries_and_run_rules_only_runs(tmp_path: Path) -> None:
    integration = declared(tmp_path, GITHUB)
    job = json.loads((PAYLOADS / "github-workflow_job-completed.json").read_text())
    job["repository"]["full_name"] = "octo-org/octo-repo"
    result = receive(integration, {"x-github-event": "workflow_job"}, json.dumps(job).encode())
    assert isinstance(result, Accepted)
    assert isinstance(result.events[0].data, RunFinished)
    assert result.events[0].data.automation == "job-linters"
    job["workflow_job"]["name"] = "build"  # no job rule matches; run rules never take jobs
    assert isinstance(
        receive(integration, {"x-github-event": "workflow_job"}, json.dumps(job).encode()), Unmapped
    )


def test_unmapped_and_invalid_and_ignored(tmp_path: Path) -> None:
    integration = declared(tmp_path, GITHUB)
    other = json.loads((PAYLOADS / "github-workflow_run-completed.json").read_text())
    other["repository"]["full_name"] = "someone/else"
    result = receive(integration, {"x-github-event": "workflow_run"}, json.dumps(other).encode())
    assert isinstance(result, Unmapped) and "someone/else" in result.detail
    spaced = delivery("github-workflow_run-completed.json", name="test prod")
    invalid = receive(integration, {"x-github-event": "workflow_run"}, spaced)
    assert isinstance(invalid, Invalid) and "automation" in invalid.detail
    assert isinstance(receive(integration, {"x-github-event": "push"}, b"{}"), Ignored)


@pytest.mark.parametrize(
    ("rule", "message", "line"),
    [
        ('    - match: {repo: "x"}\n      project: p\n      automation: a\n', "'repo' is not a github field", 8),
        ("    - project: p\n      automation: 'ci-{pipeline}'\n", "{pipeline} is not a github field", 9),
        ("    - project: 'Bad Name'\n      automation: a\n", "'Bad Name' is not a valid name", 8),
        ("    - project: p\n", "automation: required for github rules", 8),
    ],
)  # fmt: skip
def test_bad_rules_are_reported_with_file_line_and_field(
    tmp_path: Path, rule: str, message: str, line: int
) -> None:
    head = GITHUB.split("  rules:\n", maxsplit=1)[0] + "  rules:\n"
    path = tmp_path / "bad.yaml"
    path.write_text(head + rule)
    found, errors = load_file(path)
    assert found == []
    assert len(errors) == 1 and message in str(errors[0])
    assert (errors[0].file, errors[0].line) == (path, line), str(errors[0])


def test_secret_needs_exactly_one_place_and_projects_and_integrations_share_a_directory(
    tmp_path: Path,
) -> None:
    (tmp_path / "i.yaml").write_text(GITHUB.replace("{env: GITHUB_WEBHOOK_SECRET}", "{}"))
    found, errors = load_file(tmp_path / "i.yaml")
    assert found == [] and "exactly one of env or file" in str(errors[0])
    (tmp_path / "i.yaml").write_text(GITHUB)
    (tmp_path / "p.yaml").write_text(
        textwrap.dedent("""\
        apiVersion: outcomes/v1
        kind: Project
        metadata: {name: release-automation}
        spec: {owner: sre}
    """)
    )
    catalog = DeclarationRegistry(tmp_path).reload().catalog
    assert list(catalog.declared_projects()) == ["release-automation"]
    assert list(catalog.integrations) == ["github-ci"]
