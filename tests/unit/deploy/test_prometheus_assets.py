"""Rule files, alert unit tests and the Alertmanager example, checked by the real tools."""

from __future__ import annotations

import subprocess

import yaml

from tests.support.tools import DEPLOY, tool

PROMETHEUS = DEPLOY / "prometheus"
ALERTS = {
    "ProjectOffTarget", "ProjectAtRisk", "ProjectUnscoped", "ProjectStalled",
    "ProjectStuckInPilot", "CollectorRejectingEvents", "CollectorLagging", "CollectorDown",
    "IntegrationDeliveriesNotCounted", "IncidentOpenTooLong",
}  # fmt: skip


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, cwd=PROMETHEUS, timeout=120)


def test_rules_and_config_are_valid() -> None:
    checked = run(
        tool("promtool"),
        "check",
        "rules",
        "rules/outcomes-recording.yml",
        "rules/outcomes-alerts.yml",
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = run(tool("promtool"), "check", "config", "--syntax-only", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_every_alert_has_a_passing_promtool_test() -> None:
    result = run(tool("promtool"), "test", "rules", "tests/alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    tests = yaml.safe_load((PROMETHEUS / "tests" / "alerts_test.yml").read_text())
    tested = {
        case["alertname"] for group in tests["tests"] for case in group.get("alert_rule_test", [])
    }
    firing = {
        case["alertname"]
        for group in tests["tests"]
        for case in group.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    silent = tested - {
        c["alertname"]
        for g in tests["tests"]
        for c in g.get("alert_rule_test", [])
        if not c["exp_alerts"]
    }
    assert tested == firing == ALERTS
    assert silent == set()


def test_alerts_carry_severity_team_and_runbook() -> None:
    rules = yaml.safe_load((PROMETHEUS / "rules" / "outcomes-alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {a["alert"] for a in alerts} == ALERTS
    operations = (DEPLOY.parent / "docs" / "OPERATIONS.md").read_text().lower()
    for alert in alerts:
        assert alert["labels"]["severity"] in ("info", "warning", "critical")
        assert "team" in alert["labels"] or "group_left (team" in alert["expr"]
        assert alert["for"]
        annotations = alert["annotations"]
        assert {"summary", "description", "runbook_url", "dashboard"} <= set(annotations)
        anchor = annotations["runbook_url"].split("#", 1)[1]
        assert f"## {anchor}" in operations, (
            f"docs/OPERATIONS.md has no section for {alert['alert']}"
        )


def test_alertmanager_example_is_valid_and_routes_by_team() -> None:
    config = DEPLOY / "alertmanager" / "alertmanager.yml"
    checked = subprocess.run(
        [tool("amtool"), "check-config", str(config)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for labels, receivers in (
        (["team=itsm", "alertname=ProjectOffTarget"], "itsm"),
        (["team=outcomes-platform", "severity=critical"], "outcomes-platform-pager"),
        (["team=sre", "alertname=ProjectUnscoped"], "portfolio-office,sre"),
        (["team=nobody"], "portfolio-office"),
    ):
        routed = subprocess.run(
            [tool("amtool"), "config", "routes", "test", f"--config.file={config}", *labels],
            capture_output=True, text=True,
        )  # fmt: skip
        assert routed.stdout.strip() == receivers, labels
