"""Rule files, alert unit tests and the Alertmanager example, checked by the real tools."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.support.tools import DEPLOY, rules_module, tool

render = rules_module()

PROMETHEUS = DEPLOY / "prometheus"
ALERTS = {
    "ProjectOffTarget", "ProjectAtRisk", "ProjectUnscoped", "ProjectStalled",
    "ProjectStuckInPilot", "ProjectDecisionOverdue", "ProjectNotReady", "CollectorRejectingEvents", "CollectorLagging", "CollectorDown",
    "CollectorNotReady",
    "IntegrationDeliveriesNotCounted", "IncidentOpenTooLong", "DeclarationInvalid",
    "AIModelUnpriced",
    "UptimeErrorBudgetBurn", "UptimeErrorBudgetBurnSlow", "SuccessRateBudgetBurn",
    "SuccessRateBudgetBurnSlow", "AcceptanceRateBudgetBurn", "AcceptanceRateBudgetBurnSlow",
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
        # absolute links: clickable in Alertmanager, a chat message or a pager
        assert annotations["runbook_url"].startswith(f"{render.DOCS_URL}/OPERATIONS.md#")
        assert annotations["dashboard"].startswith(f"{render.GRAFANA_URL}/d/outcomes-")
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


def test_rules_rendered_for_a_deployment_link_to_it_and_still_pass(tmp_path: Path) -> None:
    """`render.py --docs-url … --grafana-url …` rewrites every link base and nothing else:
    the rendered rules pass the same promtool tests with the same bases substituted."""
    assert render.render() == {
        path.name: path.read_text() for path in sorted((PROMETHEUS / "rules").glob("*.yml"))
    }
    docs, grafana = "https://wiki.example.com/outcomes", "https://grafana.example.com/"
    out = tmp_path / "rules"
    assert render.main(["--docs-url", docs, "--grafana-url", grafana, "--out", str(out)]) == 0
    alerts = (out / "outcomes-alerts.yml").read_text()
    assert render.DOCS_URL not in alerts and render.GRAFANA_URL not in alerts
    rules = yaml.safe_load(alerts)
    for alert in (rule for group in rules["groups"] for rule in group["rules"]):
        assert alert["annotations"]["runbook_url"].startswith(f"{docs}/OPERATIONS.md#")
        assert alert["annotations"]["dashboard"].startswith("https://grafana.example.com/d/")
    (tmp_path / "tests").mkdir()
    tests = (PROMETHEUS / "tests" / "alerts_test.yml").read_text()
    tests = tests.replace(render.DOCS_URL, docs).replace(render.GRAFANA_URL, grafana.rstrip("/"))
    (tmp_path / "tests" / "alerts_test.yml").write_text(tests)
    result = subprocess.run(
        [tool("promtool"), "test", "rules", "tests/alerts_test.yml"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
