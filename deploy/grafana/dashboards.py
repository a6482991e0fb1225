"""Grafana dashboards as code (grafana-foundation-sdk): portfolio, project, collector health.

`make dashboards` (python deploy/grafana/dashboards.py) rewrites deploy/grafana/dashboards/*.json;
a test fails when the committed JSON differs from what this file generates. Every query uses
the `${datasource}` variable, so an import needs no edits.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders import bargauge, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders.dashboard import DatasourceVariable, QueryVariable, Row
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

OUT = Path(__file__).parent / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
Panel = stat.Panel | timeseries.Panel | table.Panel | bargauge.Panel


def query(expr: str, legend: str = "", instant: bool = False) -> prometheus.Dataquery:
    q = prometheus.Dataquery().expr(expr).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    return q.instant() if instant else q


def _status_thresholds(builder: stat.Panel | bargauge.Panel) -> None:
    builder.thresholds(
        dashboard.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps(
            [
                Threshold(value=None, color="red"),
                Threshold(value=0.8, color="orange"),
                Threshold(value=1.0, color="green"),
            ]
        )
    )


def _ref(index: int) -> str:
    return chr(ord("A") + index)


def stat_panel(title: str, unit: str, *queries: prometheus.Dataquery, width: int = 6) -> stat.Panel:
    panel = stat.Panel().title(title).unit(unit).datasource(DATASOURCE).height(5).span(width)
    for index, q in enumerate(queries):
        panel = panel.with_target(q.ref_id(_ref(index)))
    return panel


def series_panel(
    title: str, unit: str, *queries: prometheus.Dataquery, width: int = 12
) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).unit(unit).datasource(DATASOURCE).height(8).span(width)
    for index, q in enumerate(queries):
        panel = panel.with_target(q.ref_id(_ref(index)))
    return panel


def table_panel(title: str, *queries: prometheus.Dataquery, width: int = 12) -> table.Panel:
    panel = table.Panel().title(title).datasource(DATASOURCE).height(8).span(width)
    for index, q in enumerate(queries):
        panel = panel.with_target(q.format(PromQueryFormat.TABLE).ref_id(_ref(index)))
    return panel


def bars(title: str, unit: str, q: prometheus.Dataquery, width: int = 8) -> bargauge.Panel:
    panel = bargauge.Panel().title(title).unit(unit).datasource(DATASOURCE).height(8).span(width)
    return panel.with_target(q.ref_id("A"))


def _base(uid: str, title: str, description: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["outcomes", "generated"])
        .refresh("1m")
        .time("now-6h", "now")
        .timezone("utc")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .with_variable(DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
    )


def portfolio() -> dashboard.Dashboard:
    meeting = stat_panel(
        "Projects meeting objectives",
        "percentunit",
        query("outcomes:portfolio_meeting_objectives:ratio", instant=True),
    )
    _status_thresholds(meeting)
    return (
        _base(
            "outcomes-portfolio",
            "Outcomes / Portfolio",
            "Is the automation portfolio paying off? Current period, every project.",
        )
        .with_row(Row("Portfolio"))
        .with_panel(meeting)
        .with_panel(
            stat_panel(
                "Projects by status",
                "none",
                query("outcomes:portfolio_projects:sum", "{{status}}", instant=True),
                width=12,
            )
        )
        .with_panel(
            stat_panel(
                "Net value this period",
                "currencyUSD",
                query("outcomes:period_net_value:sum", "{{currency}}", instant=True),
            )
        )
        .with_panel(
            series_panel(
                "Value vs cost (current period)",
                "currencyUSD",
                query("sum(outcomes_period_value)", "value"),
                query("sum(outcomes_period_cost)", "cost"),
            )
        )
        .with_panel(
            table_panel(
                "Worst projects (lowest attainment)",
                query(
                    "bottomk(10, min by (project) (outcomes_target_attainment_ratio))", instant=True
                ),
            )
        )
        .with_row(Row("By team, sponsor and stage"))
        .with_panel(
            bars(
                "Meeting objectives by team",
                "percentunit",
                query("outcomes:team_meeting_objectives:ratio", "{{team}}", instant=True),
            )
        )
        .with_panel(
            bars(
                "Value by team (current period)",
                "currencyUSD",
                query("outcomes:period_value:team", "{{team}}", instant=True),
            )
        )
        .with_panel(
            bars(
                "Cost by team (current period)",
                "currencyUSD",
                query("outcomes:period_cost:team", "{{team}}", instant=True),
            )
        )
        .with_panel(
            table_panel(
                "Projects by sponsor and status",
                query("outcomes:sponsor_projects:sum > 0", instant=True),
            )
        )
        .with_panel(
            table_panel(
                "Projects by stage and status",
                query("outcomes:stage_projects:sum > 0", instant=True),
            )
        )
        .with_panel(
            series_panel(
                "Lifetime value vs budget",
                "currencyUSD",
                query("sum(outcomes_project_lifetime_value)", "lifetime value"),
                query("sum(outcomes_project_lifetime_cost)", "lifetime cost"),
                query("sum(outcomes_project_budget)", "declared budget"),
                width=24,
            )
        )
    )


def project() -> dashboard.Dashboard:
    p = 'project="$project"'
    team = (
        QueryVariable("team")
        .label("Team")
        .datasource(DATASOURCE)
        .query("label_values(outcomes_project_info, team)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )
    project_var = (
        QueryVariable("project")
        .label("Project")
        .datasource(DATASOURCE)
        .query('label_values(outcomes_project_info{team=~"$team"}, project)')
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )
    return (
        _base(
            "outcomes-project",
            "Outcomes / Project",
            "One project: each objective against realized and projected values.",
        )
        .with_variable(team)
        .with_variable(project_var)
        .with_row(Row("Objectives"))
        .with_panel(
            stat_panel(
                "Status",
                "none",
                query(
                    f"max by (status) (outcomes_project_status{{{p}}}) == 1",
                    "{{status}}",
                    instant=True,
                ),
            )
        )
        .with_panel(
            table_panel(
                "Objective, projected, attainment",
                query(f"outcomes_target_objective{{{p}}}", "objective", instant=True),
                query(f"outcomes_target_projected{{{p}}}", "projected", instant=True),
                query(f"outcomes_target_attainment_ratio{{{p}}}", "attainment", instant=True),
                width=18,
            )
        )
        .with_panel(
            series_panel(
                "Attainment by target",
                "percentunit",
                query(f"outcomes_target_attainment_ratio{{{p}}}", "{{target}}"),
                width=24,
            )
        )
        .with_row(Row("Realized this period"))
        .with_panel(
            stat_panel(
                "Time saved", "h", query(f"outcomes:period_time_saved:hours{{{p}}}", instant=True)
            )
        )
        .with_panel(
            stat_panel(
                "Value / cost",
                "currencyUSD",
                query(f"outcomes_period_value{{{p}}}", "value", instant=True),
                query(f"outcomes_period_cost{{{p}}}", "cost", instant=True),
            )
        )
        .with_panel(
            stat_panel(
                "ROI", "percentunit", query(f"outcomes_period_roi_ratio{{{p}}}", instant=True)
            )
        )
        .with_panel(
            stat_panel(
                "Uptime", "percentunit", query(f"outcomes_period_uptime_ratio{{{p}}}", instant=True)
            )
        )
        .with_row(Row("Runs"))
        .with_panel(
            series_panel(
                "Runs by outcome",
                "none",
                query(
                    f"sum by (outcome) (increase(outcomes_runs_total{{{p}}}[$__rate_interval]))",
                    "{{outcome}}",
                ),
            )
        )
        .with_panel(
            series_panel(
                "Success and intervention",
                "percentunit",
                query(f"outcomes_period_success_ratio{{{p}}}", "success"),
                query(f"outcomes_period_intervention_ratio{{{p}}}", "intervention"),
            )
        )
        .with_row(Row("Incidents"))
        .with_panel(
            stat_panel(
                "Open incidents",
                "short",
                query(f"sum(outcomes_incidents_open{{{p}}}) or vector(0)", instant=True),
            )
        )
        .with_panel(
            stat_panel(
                "Longest open incident (0: none open)",
                "s",
                query(
                    f"(time() - min(outcomes_incidents_open_since_timestamp_seconds{{{p}}}))"
                    " or vector(0)",
                    instant=True,
                ),
            )
        )
        .with_panel(
            table_panel(
                "Incidents by service: open, resolved (lifetime), awaiting their start",
                query(f"outcomes_incidents_open{{{p}}}", "open", instant=True),
                query(f"outcomes_incidents_total{{{p}}}", "resolved", instant=True),
                query(f"outcomes_incidents_pending{{{p}}}", "pending", instant=True),
            )
        )
        .with_panel(
            series_panel(
                "Downtime this period, per service counted for uptime",
                "s",
                query(f"outcomes_period_downtime_seconds{{{p}}}", "{{service}}"),
                width=12,
            )
        )
        .with_panel(
            series_panel(
                "Open incidents over time",
                "short",
                query(f"outcomes_incidents_open{{{p}}}", "{{service}}"),
                width=12,
            )
        )
        .with_row(Row("Money"))
        .with_panel(
            bars(
                "Cost by category (lifetime)",
                "currencyUSD",
                query(
                    f"sum by (category) (outcomes_cost_total{{{p}}})", "{{category}}", instant=True
                ),
                width=12,
            )
        )
        .with_panel(
            bars(
                "Savings by category (lifetime)",
                "currencyUSD",
                query(
                    f"sum by (category) (outcomes_savings_total{{{p}}})",
                    "{{category}}",
                    instant=True,
                ),
                width=12,
            )
        )
        .with_panel(
            series_panel(
                "Lifetime value, cost and budget",
                "currencyUSD",
                query(f"outcomes_project_lifetime_value{{{p}}}", "value"),
                query(f"outcomes_project_lifetime_cost{{{p}}}", "cost"),
                query(f"outcomes_project_budget{{{p}}}", "budget"),
            )
        )
        .with_panel(
            stat_panel(
                "Since last event",
                "s",
                query(
                    f"time() - outcomes_project_last_event_timestamp_seconds{{{p}}}", instant=True
                ),
                width=12,
            )
        )
    )


def collector() -> dashboard.Dashboard:
    return (
        _base(
            "outcomes-collector",
            "Outcomes / Collector health",
            "Ingest, dead letters, lag, delay and freshness of the collectors.",
        )
        .with_row(Row("Ingest"))
        .with_panel(
            series_panel(
                "Events by result",
                "ops",
                query(
                    "sum by (result) (rate(outcomes_collector_events_total[$__rate_interval]))",
                    "{{result}}",
                ),
            )
        )
        .with_panel(
            series_panel(
                "Dead-lettered by reason",
                "none",
                query(
                    "sum by (reason) (increase(outcomes_collector_rejected_total[$__range]))",
                    "{{reason}}",
                ),
            )
        )
        .with_panel(
            series_panel(
                "Consumer lag",
                "none",
                query(
                    "sum by (instance, partition) (outcomes_collector_consumer_lag)",
                    "{{instance}} p{{partition}}",
                ),
            )
        )
        .with_panel(
            series_panel(
                "Event delay p99 (event time to applied)",
                "s",
                query(
                    "histogram_quantile(0.99, sum by (le)"
                    " (rate(outcomes_collector_event_delay_seconds_bucket[$__rate_interval])))",
                    "p99",
                ),
            )
        )
        .with_panel(
            series_panel(
                "Webhook deliveries by integration and result (gateway)",
                "none",
                query(
                    "sum by (integration, result)"
                    " (increase(outcomes_gateway_hooks_total[$__range]))",
                    "{{integration}} {{result}}",
                ),
            )
        )
        .with_row(Row("Freshness and configuration"))
        .with_panel(
            stat_panel(
                "Since the newest event",
                "s",
                query("time() - max(outcomes_project_last_event_timestamp_seconds)", instant=True),
            )
        )
        .with_panel(
            stat_panel(
                "Collectors up", "none", query('sum(up{job="outcomes-collector"})', instant=True)
            )
        )
        .with_panel(
            stat_panel(
                "Invalid declaration files",
                "none",
                query(
                    "count(outcomes_collector_declaration_file_valid == 0) or vector(0)",
                    instant=True,
                ),
            )
        )
        .with_panel(
            stat_panel(
                "Label values folded into other",
                "none",
                query("sum(outcomes_collector_label_overflow_total) or vector(0)", instant=True),
            )
        )
        .with_panel(
            table_panel("Versions", query("outcomes_collector_build_info", instant=True), width=24)
        )
    )


BOARDS: dict[str, Callable[[], dashboard.Dashboard]] = {
    "portfolio": portfolio,
    "project": project,
    "collector": collector,
}


def render() -> dict[str, str]:
    encoder = JSONEncoder(sort_keys=True, indent=2)
    return {f"{name}.json": encoder.encode(make().build()) + "\n" for name, make in BOARDS.items()}


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(OUT / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
