"""Dashboards as code: the committed JSON is current and imports without edits."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

from collector.gateway.hooks import HookMetrics
from tests.support.tools import DEPLOY, dashboards_module

GRAFANA = DEPLOY / "grafana"


def boards() -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text()) for path in (GRAFANA / "dashboards").glob("*.json")
    }


def test_committed_json_is_what_the_generator_makes() -> None:
    """Run `make dashboards` when this fails."""
    generated = dashboards_module().render()
    committed = {path.name: path.read_text() for path in (GRAFANA / "dashboards").glob("*.json")}
    assert committed == generated


def test_queries_use_the_datasource_variable_and_distinct_ref_ids() -> None:
    for name, board in boards().items():
        assert board["uid"] == f"outcomes-{name}"
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            targets = panel["targets"]
            assert targets, panel["title"]
            assert len({t["refId"] for t in targets}) == len(targets), panel["title"]
            for target in targets:
                assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_queries_only_name_metrics_that_exist() -> None:
    exported = set(
        re.findall(
            r"^# TYPE (\S+) (\w+)",
            (DEPLOY.parent / "tests/unit/exporters/golden/metrics.txt").read_text(),
            re.M,
        )
    )
    names = {name for name, _ in exported}
    names |= {f"{name}_bucket" for name, kind in exported if kind == "histogram"}
    rules = yaml.safe_load((DEPLOY / "prometheus/rules/outcomes-recording.yml").read_text())
    names |= {rule["record"] for group in rules["groups"] for rule in group["rules"]}
    names.add("up")
    gateway = CollectorRegistry()
    HookMetrics(gateway)  # the gateway's own /metrics
    names |= {f"{family.name}_total" for family in gateway.collect() if family.type == "counter"}
    for board in boards().values():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                used = set(re.findall(r"\b(outcomes[_:][a-z0-9_:]+)", target["expr"]))
                assert used <= names, (panel["title"], used - names)


def test_provisioning_points_at_the_dashboards() -> None:
    datasource = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["type"] == "prometheus"
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/outcomes.yml").read_text())
    assert provider["providers"][0]["type"] == "file"
