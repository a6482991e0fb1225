"""Dashboards as code: the committed JSON is current and imports without edits."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

from outcomes.gateway.hooks import HookMetrics
from tests.support.tools import DEPLOY, dashboards_module, tool

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


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in board["panels"] if panel["type"] != "row"]


def test_every_panel_says_what_it_shows_and_links_to_the_reference() -> None:
    for name, board in boards().items():
        for panel in _panels(board):
            description = panel.get("description", "")
            assert len(description) > 30, (name, panel["title"])
            if name != "collector" or "Definition" in description:
                assert "/docs/REFERENCE.md#" in description, (name, panel["title"])


def test_money_follows_the_currency_variable_and_shows_the_sites_currency() -> None:
    """Money is filtered by `$currency`; Grafana reads no variable in units, so money panels
    carry the unit of deploy/site.yaml's currency (never `none`)."""
    site = yaml.safe_load((DEPLOY / "site.yaml").read_text())
    unit = f"currency{site['currency']}"
    for name, board in boards().items():
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert "currency" in variables["currency"]["query"], name
        for panel in _panels(board):
            exprs = " ".join(t["expr"] for t in panel["targets"])
            shown = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
            if "${currency}" in panel["title"] and panel["type"] != "table":
                assert shown == unit, (name, panel["title"], shown)
            money = re.findall(r"outcomes_(?:period|project_lifetime|closed_period)_"
                               r"(?:value|cost|net_value)\b"
                               r"|outcomes_(?:cost|savings)_total|outcomes:period_\w+:(?:sum|team)",
                               exprs)  # fmt: skip
            if money and "ratio" not in exprs:
                assert '$currency"' in exprs, (name, panel["title"])
                assert "$currency" in panel["title"] or "${currency}" in panel["title"], (
                    name, panel["title"],
                )  # fmt: skip


def test_statuses_attainment_and_roi_are_coloured_and_named() -> None:
    coloured = 0
    for board in boards().values():
        for panel in _panels(board):
            text = json.dumps(panel)
            if (
                "outcomes_project_status" in text
                or "attainment" in panel["title"].lower()
                or (panel["title"] == "ROI")
            ):
                defaults = panel["fieldConfig"]["defaults"]
                steps = defaults.get("thresholds", {}).get("steps", [])
                overrides = json.dumps(panel["fieldConfig"].get("overrides", []))
                named = "off target" in json.dumps(defaults.get("mappings", [])) + overrides
                assert named or len(steps) > 1 or '"thresholds"' in overrides, panel["title"]
                coloured += 1
    assert coloured >= 6


def test_monthly_and_quarterly_periods_are_never_summed_together() -> None:
    for board in boards().values():
        for panel in _panels(board):
            for target in panel["targets"]:
                expr = target["expr"]
                if re.search(r"sum\b[^()]*\(\s*outcomes_period_", expr):
                    raise AssertionError(f"{panel['title']}: sums period gauges across kinds")


def test_boards_link_to_each_other_and_open_on_sensible_ranges() -> None:
    found = boards()
    assert set(found) == {"portfolio", "team", "project", "collector"}
    for name, board in found.items():
        expected = "now-6h" if name == "collector" else "now-30d"
        assert board["time"]["from"] == expected, name
        (menu,) = [item for item in board["links"] if item["type"] == "dashboards"]
        assert menu["tags"] == ["outcomes"] and menu["includeVars"] and menu["keepTime"]
    links = {
        name: " ".join(json.dumps(panel.get("fieldConfig", {})) for panel in _panels(board))
        for name, board in found.items()
    }
    assert (
        "/d/outcomes-team/" in links["portfolio"] and "/d/outcomes-project/" in links["portfolio"]
    )
    assert "/d/outcomes-project/" in links["team"]
    assert "/d/outcomes-team/" in links["project"]
    project = found["project"]
    never = next(p for p in _panels(project) if p["title"] == "Since last event")
    assert "never reported" in json.dumps(never["fieldConfig"]["defaults"]["mappings"])
    assert "outcomes_project_declared_timestamp_seconds" in never["targets"][0]["expr"]


def test_every_query_parses(tmp_path: Path) -> None:
    """promtool parses each panel query (variables filled in) as a rule expression: a typo
    shows here, before the live Prometheus test."""
    filled = {"$__rate_interval": "1m", "$__range": "5m", "$team": "sre", "$project": "p",
              "${currency}": "USD", "$currency": "USD"}  # fmt: skip
    rules: list[dict[str, str]] = []
    for board in boards().values():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                for name, value in filled.items():
                    expr = expr.replace(name, value)
                rules.append({"record": f"panel:q{len(rules)}", "expr": expr})
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    checked = subprocess.run([tool("promtool"), "check", "rules", str(path)],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_status_table_colours_its_status_cells() -> None:
    """A table whose rows carry a status (as a code or as the label itself) shows the
    status word in its colour."""
    checked = 0
    for board in boards().values():
        for panel in _panels(board):
            if panel.get("type") != "table":
                continue
            exprs = " ".join(t["expr"] for t in panel["targets"])
            if not re.search(r"_projects:sum|outcomes_project_status|status", exprs):
                continue
            overrides = json.dumps(panel["fieldConfig"].get("overrides", []))
            assert "off target" in overrides and "color-background" in overrides, panel["title"]
            checked += 1
    assert checked >= 3


def test_time_saved_is_shown_in_hours_and_the_attainment_cap_in_words() -> None:
    """Time saved (and forfeited) is read in hours on every board, never as seconds; an
    attainment at its cap reads "≥ 10× budget", never 1000%."""
    hours = attainment = 0
    for name, board in boards().items():
        for panel in _panels(board):
            for target in panel["targets"]:
                expr = target["expr"]
                for found in re.finditer(r"outcomes_\w*(?:time_saved|forfeited)_seconds\b", expr):
                    rest = expr[found.end() :]
                    assert re.match(r"(\{[^}]*\})?\)?\s*/ 3600", rest), (name, panel["title"])
                    hours += 1
                if "time_saved" in expr and "target" in expr and "objective" in expr:
                    assert '"hours"' in expr and "/ 3600" in expr, (name, panel["title"])
            text = json.dumps(panel["fieldConfig"])
            shows = "Attainment" in text or "attainment" in panel["title"].lower()
            if shows and panel["type"] == "table":
                assert "\\u2265 10\\u00d7 budget" in text, (name, panel["title"])
                attainment += 1
    assert hours >= 4 and attainment >= 2
