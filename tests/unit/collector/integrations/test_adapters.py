"""Each tool's delivery -> the run it reports (golden values read off the payloads)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from collector.integrations import awx, cdevents, github, gitlab, jenkins, tekton
from collector.integrations.model import Ignored, MalformedError, RunFacts

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_github_workflow_run_from_an_older_payload() -> None:
    facts = github.facts(
        {"x-github-event": "workflow_run"}, payload("github-workflow_run-completed.json")
    )
    assert facts == RunFacts(
        fields={"repository": "octo-org/octo-repo", "workflow": "test", "branch": "master",
                "event": "repository_dispatch"},
        outcome="succeeded",
        finished=at("2020-10-05T16:33:49"),
        duration_s=25.0,  # updated_at - created_at (no run_started_at in this payload)
        source="https://github.com/octo-org/octo-repo",
        key="workflow_run/289782451/attempt/1",
        links=("https://github.com/octo-org/octo-repo/actions/runs/289782451",),
    )  # fmt: skip


def test_github_workflow_job_is_job_level_with_its_exact_duration() -> None:
    facts = github.facts(
        {"x-github-event": "workflow_job"}, payload("github-workflow_job-completed.json")
    )
    assert isinstance(facts, RunFacts)
    assert facts.level == "job" and facts.outcome == "succeeded"
    assert facts.fields == {
        "repository": "Codertocat/Hello-World",
        "workflow": "",
        "job": "linters",
        "branch": "",
    }
    assert facts.duration_s == 198.0  # 10:34:58 -> 10:38:16
    assert facts.key == "workflow_job/289782451/attempt/1"


@pytest.mark.parametrize(
    ("conclusion", "outcome"),
    [("success", "succeeded"), ("failure", "failed"), ("timed_out", "failed"),
     ("cancelled", "cancelled"), ("skipped", "cancelled")],
)  # fmt: skip
def test_github_conclusions(conclusion: str, outcome: str) -> None:
    document = payload("github-workflow_run-completed.json")
    document["workflow_run"]["conclusion"] = conclusion
    facts = github.facts({"x-github-event": "workflow_run"}, document)
    assert isinstance(facts, RunFacts) and facts.outcome == outcome


def test_github_rerun_is_a_new_attempt_and_unfinished_runs_are_ignored() -> None:
    document = payload("github-workflow_run-completed.json")
    document["workflow_run"]["run_attempt"] = 2
    document["workflow_run"]["run_started_at"] = "2020-10-05T16:33:40Z"
    facts = github.facts({"x-github-event": "workflow_run"}, document)
    assert isinstance(facts, RunFacts)
    assert facts.key == "workflow_run/289782451/attempt/2" and facts.duration_s == 9.0
    document["action"] = "in_progress"
    assert isinstance(github.facts({"x-github-event": "workflow_run"}, document), Ignored)
    document["action"] = "completed"
    document["workflow_run"]["conclusion"] = "neutral"
    assert isinstance(github.facts({"x-github-event": "workflow_run"}, document), Ignored)
    assert isinstance(github.facts({"x-github-event": "ping"}, {"zen": "hi"}), Ignored)


def test_gitlab_pipeline_hook_with_gitlab_timestamps() -> None:
    facts = gitlab.facts({"x-gitlab-event": "Pipeline Hook"}, payload("gitlab-pipeline-hook.json"))
    assert facts == RunFacts(
        fields={"project": "gitlab-org/gitlab-test", "pipeline": "Pipeline for branch: master",
                "ref": "master"},
        outcome="succeeded",
        finished=at("2016-08-12T15:26:29"),
        duration_s=63.0,
        source="http://192.168.64.1:3005/gitlab-org/gitlab-test",
        key="pipeline/31/success",
        links=("http://example.com/gitlab-org/gitlab-test/-/pipelines/31",),
    )  # fmt: skip


def test_gitlab_job_hook_reads_iso_times_and_counts_retries_apart() -> None:
    facts = gitlab.facts({"x-gitlab-event": "Job Hook"}, payload("gitlab-job-hook.json"))
    assert isinstance(facts, RunFacts)
    assert (facts.level, facts.outcome, facts.duration_s) == ("job", "failed", 150.5)
    assert facts.finished == at("2021-02-23T02:44:10")
    assert facts.fields == {"project": "gitlab-org/gitlab-test", "pipeline": "", "job": "test",
                            "stage": "test", "ref": "gitlab-script-trigger"}  # fmt: skip
    assert facts.key == "job/1977/failed/2"
    running = payload("gitlab-job-hook.json") | {"build_status": "running"}
    assert isinstance(gitlab.facts({}, running), Ignored)


def test_gitlab_offset_timestamps() -> None:
    document = payload("gitlab-pipeline-hook.json")
    document["object_attributes"]["finished_at"] = "2016-08-12 17:26:29 +0200"
    facts = gitlab.facts({}, document)
    assert isinstance(facts, RunFacts) and facts.finished == at("2016-08-12T15:26:29")


def test_jenkins_completed_build() -> None:
    facts = jenkins.facts({}, payload("jenkins-notification.json"))
    assert facts == RunFacts(
        fields={"job": "asgard"},
        outcome="succeeded",
        finished=datetime.fromtimestamp(1489426521, UTC),
        duration_s=65.432,
        source="http://localhost:8080/job/asgard",
        key="build/18",
        links=("http://localhost:8080/job/asgard/18/",),
    )
    started = payload("jenkins-notification.json")
    started["build"]["phase"] = "STARTED"
    assert isinstance(jenkins.facts({}, started), Ignored)
    unstable = payload("jenkins-notification.json")
    unstable["build"]["status"] = "UNSTABLE"
    facts = jenkins.facts({}, unstable)
    assert isinstance(facts, RunFacts) and facts.outcome == "failed"


def test_awx_default_body() -> None:
    facts = awx.facts({}, payload("awx-notification.json"))
    assert isinstance(facts, RunFacts)
    assert facts.fields == {"template": "Demo Job Template", "playbook": "hello_world.yml",
                            "inventory": "Demo Inventory", "project": "Demo Project"}  # fmt: skip
    assert facts.outcome == "succeeded"
    assert facts.duration_s == pytest.approx(11.687091)
    assert (facts.source, facts.key) == ("awx/towerhost", "job/38")
    started = payload("awx-notification.json") | {"status": "running"}
    assert isinstance(awx.facts({}, started), Ignored)


def test_tekton_pipelinerun_successful() -> None:
    headers = {"ce-type": "dev.tekton.event.pipelinerun.successful.v1",
               "ce-source": "/apis///namespaces/default//pipelinerun-with-parameters-run-sw8xc"}  # fmt: skip
    facts = tekton.facts(headers, payload("tekton-pipelinerun-successful.json"))
    assert isinstance(facts, RunFacts)
    assert facts.fields == {"namespace": "default", "pipeline": "pipeline-with-parameters"}
    assert (facts.outcome, facts.duration_s, facts.level) == ("succeeded", 23.0, "run")
    assert facts.key == "pipelinerun/ea1b4c3f-d0e2-4d8d-8b87-4f8d2d6c4c1b"
    running = {"ce-type": "dev.tekton.event.pipelinerun.running.v1"}
    assert isinstance(tekton.facts(running, payload("tekton-pipelinerun-successful.json")), Ignored)


def test_tekton_cancelled_run_counts_as_cancelled() -> None:
    document = payload("tekton-pipelinerun-successful.json")
    document["pipelineRun"]["status"]["conditions"][0]["reason"] = "Cancelled"
    failed = {"ce-type": "dev.tekton.event.pipelinerun.failed.v1"}
    facts = tekton.facts(failed, document)
    assert isinstance(facts, RunFacts) and facts.outcome == "cancelled"


@pytest.mark.parametrize(
    ("name", "outcome"),
    [("cdevents-pipelinerun-finished-0.5.json", "failed"),
     ("cdevents-pipelinerun-finished-0.4.json", "succeeded")],
)  # fmt: skip
def test_cdevents_pipelinerun_in_both_context_versions(name: str, outcome: str) -> None:
    facts = cdevents.facts({}, payload(name))
    assert isinstance(facts, RunFacts)
    assert facts.fields == {"source": "/event/source/123", "pipeline": "myPipeline"}
    assert (facts.outcome, facts.duration_s, facts.level) == (outcome, None, "run")
    assert facts.finished == datetime(2023, 3, 20, 14, 27, 5, 315384, UTC)
    assert facts.key == "pipelinerun/mySubject123"


def test_cdevents_taskrun_is_job_level_and_structured_mode_unwraps() -> None:
    document = payload("cdevents-taskrun-finished-0.5.json")
    wrapped = {
        "specversion": "1.0",
        "id": "x",
        "type": document["context"]["type"],
        "data": document,
    }
    facts = cdevents.facts({}, wrapped)
    assert isinstance(facts, RunFacts)
    assert facts.level == "job" and facts.fields["task"] == "myTask"
    queued = payload("cdevents-pipelinerun-finished-0.5.json")
    queued["context"]["type"] = "dev.cdevents.pipelinerun.queued.0.2.0"
    assert isinstance(cdevents.facts({}, queued), Ignored)


def test_malformed_payloads_say_which_field() -> None:
    document = payload("github-workflow_run-completed.json")
    del document["workflow_run"]["updated_at"]
    with pytest.raises(MalformedError, match="updated_at"):
        github.facts({"x-github-event": "workflow_run"}, document)
    with pytest.raises(MalformedError, match="context.specversion"):
        cdevents.facts({}, {"context": {"type": "dev.cdevents.pipelinerun.finished.0.3.0"}})
