"""Grafana dashboards as code (grafana-foundation-sdk): portfolio, team, project, collector.

`make dashboards` (python deploy/grafana/dashboards.py) rewrites deploy/grafana/dashboards/*.json;
a test fails when the committed JSON differs from what this file generates. Every query uses
the `${datasource}` variable, so an import needs no edits; money is filtered by `${currency}`.

Written for leaders first: every panel says what it shows and how it is computed (with a
link to docs/REFERENCE.md), statuses are words in their colours, attainment and ROI are
coloured at a glance, monthly and quarterly projects are never summed together, and the
boards link portfolio -> team -> project and back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from grafana_foundation_sdk.builders import bargauge, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders.dashboard import DatasourceVariable, QueryVariable, Row
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataSourceRef,
    DataTransformerConfig,
    DynamicConfigValue,
    MatcherConfig,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

OUT = Path(__file__).parent / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
REFERENCE: Final = "https://github.com/outcome-telemetry/collector/blob/main/docs/REFERENCE.md"
"""Where panel descriptions send a reader for the exact definition (the repository's docs)."""
Panel = stat.Panel | timeseries.Panel | table.Panel | bargauge.Panel
MONEY: Final = "${currency}"

STATUS_CODES: Final = (
    ("met", 1, "green"),
    ("at_risk", 2, "orange"),
    ("off_target", 3, "red"),
    ("insufficient_data", 4, "text"),
    ("unscoped", 5, "blue"),
)
"""Project status as one number per project (state sets become a value a stat can colour)."""


def status_code(matchers: str = "", by: str = "") -> str:
    """PromQL: 1 met, 2 at risk, 3 off target, 4 insufficient data, 5 unscoped, from the
    `outcomes_project_status` state set (`matchers`: e.g. `project="$project"`)."""
    grouping = f" by ({by})" if by else ""
    prefix = f"{matchers}," if matchers else ""
    return " + ".join(
        f'max{grouping} (outcomes_project_status{{{prefix}status="{name}"}}) * {code}'
        for name, code, _ in STATUS_CODES
    )


def see(anchor: str) -> str:
    return f" [Definition]({REFERENCE}#{anchor})"


def query(expr: str, legend: str = "", instant: bool = False) -> prometheus.Dataquery:
    q = prometheus.Dataquery().expr(expr).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    return q.instant() if instant else q


def _steps(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=value, color=colour) for value, colour in steps])
    )


ATTAINMENT = _steps((None, "red"), (0.8, "orange"), (1.0, "green"))
"""Target status colours: below 0.8 off target, below 1 at risk, else met."""
ROI = _steps((None, "red"), (0.0, "green"))
"""ROI below 0: the project costs more than it returns."""
MEETING = _steps((None, "red"), (0.5, "orange"), (0.8, "green"))
NEUTRAL = _steps((None, "text"))


def status_mappings() -> list[ValueMap]:
    return [
        ValueMap(
            {
                str(code): ValueMappingResult(text=name.replace("_", " "), color=colour, index=code)
                for name, code, colour in STATUS_CODES
            }
        )
    ]


def _ref(index: int) -> str:
    return chr(ord("A") + index)


def stat_panel(
    title: str,
    description: str,
    unit: str,
    *queries: prometheus.Dataquery,
    width: int = 6,
    thresholds: dashboard.ThresholdsConfig = NEUTRAL,
) -> stat.Panel:
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .height(5)
        .span(width)
        .thresholds(thresholds)
    )
    for index, q in enumerate(queries):
        panel = panel.with_target(q.ref_id(_ref(index)))
    return panel


def status_panel(title: str, description: str, expr: str, width: int = 6) -> stat.Panel:
    return (
        stat_panel(title, description, "none", query(expr, instant=True), width=width)
        .mappings(status_mappings())  # type: ignore[arg-type]
        .color_mode(_BACKGROUND)
    )


def series_panel(
    title: str, description: str, unit: str, *queries: prometheus.Dataquery, width: int = 12
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .height(8)
        .span(width)
    )
    for index, q in enumerate(queries):
        panel = panel.with_target(q.ref_id(_ref(index)))
    return panel


def table_panel(
    title: str, description: str, *queries: prometheus.Dataquery, width: int = 12
) -> table.Panel:
    panel = (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .height(8)
        .span(width)
    )
    for index, q in enumerate(queries):
        panel = panel.with_target(q.format(PromQueryFormat.TABLE).ref_id(_ref(index)))
    return panel


def bars(
    title: str,
    description: str,
    unit: str,
    q: prometheus.Dataquery,
    *,
    width: int = 8,
    thresholds: dashboard.ThresholdsConfig = NEUTRAL,
) -> bargauge.Panel:
    panel = (
        bargauge.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .height(8)
        .span(width)
        .thresholds(thresholds)
    )
    return panel.with_target(q.ref_id("A"))


def link(title: str, url: str) -> dashboard.DashboardLink:
    return dashboard.DashboardLink(title).type(DashboardLinkType.LINK).url(url)


def to_project(field: str = "${__data.fields.project}") -> dashboard.DashboardLink:
    return link(
        "Open the project board",
        f"/d/outcomes-project/outcomes-project?var-project={field}&${{__url_time_range}}"
        "&var-datasource=${datasource}&var-currency=${currency}",
    )


def to_team(field: str) -> dashboard.DashboardLink:
    return link(
        "Open the team board",
        f"/d/outcomes-team/outcomes-team?var-team={field}&${{__url_time_range}}"
        "&var-datasource=${datasource}&var-currency=${currency}",
    )


Override = tuple[MatcherConfig, list[DynamicConfigValue]]


def _by_name(name: str, *properties: tuple[str, object]) -> Override:
    return (
        MatcherConfig(id_val="byName", options=name),
        [DynamicConfigValue(id_val=key, value=value) for key, value in properties],
    )


def attainment_column(name: str) -> Override:
    """A table column of attainments: percent, its cell coloured by target status."""
    return _by_name(
        name,
        ("unit", "percentunit"),
        ("thresholds", ATTAINMENT.build()),
        ("custom.cellOptions", {"type": "color-background"}),
    )


def status_column(name: str) -> Override:
    """A table column of status codes (`status_code`): the status word in its colour."""
    return _by_name(
        name,
        ("mappings", status_mappings()),
        ("custom.cellOptions", {"type": "color-background"}),
    )


def merged(panel: table.Panel, names: dict[str, str], hidden: Sequence[str] = ()) -> table.Panel:
    """One row per label set: the queries' values side by side (`Value #A` -> a name)."""
    panel = panel.with_transformation(DataTransformerConfig(id_val="merge", options={}))
    excluded = {"Time": True, **{name: True for name in hidden}}
    return panel.with_transformation(
        DataTransformerConfig(
            id_val="organize", options={"excludeByName": excluded, "renameByName": names}
        )
    )


_BACKGROUND = stat.common.BigValueColorMode.BACKGROUND  # type: ignore[attr-defined]


def _base(uid: str, title: str, description: str, since: str) -> dashboard.Dashboard:
    currency = (
        QueryVariable("currency")
        .label("Currency")
        .datasource(DATASOURCE)
        .query("label_values(outcomes_project_lifetime_value, currency)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["outcomes", "generated"])
        .refresh("1m")
        .time(since, "now")
        .timezone("utc")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .with_variable(DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
        .with_variable(currency)
        .links(
            [
                dashboard.DashboardLink("Outcomes boards")
                .type(DashboardLinkType.DASHBOARDS)
                .tags(["outcomes"])
                .as_dropdown(False),
                link("Reference: every number defined", REFERENCE).target_blank(True),
            ]
        )
    )


def _team_variable() -> QueryVariable:
    return (
        QueryVariable("team")
        .label("Team")
        .datasource(DATASOURCE)
        .query("label_values(outcomes_project_info, team)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )


def _by_kind(title: str, description: str, record: str) -> stat.Panel:
    return stat_panel(
        title,
        description,
        "none",
        query(
            f'{record}{{currency="$currency",kind="month"}}',
            "monthly projects, this month",
            instant=True,
        ),
        query(
            f'{record}{{currency="$currency",kind="quarter"}}',
            "quarterly projects, this quarter",
            instant=True,
        ),
        width=8,
    ).decimals(2)


def portfolio() -> dashboard.Dashboard:
    return (
        _base(
            "outcomes-portfolio",
            "Outcomes / Portfolio",
            "Is the automation portfolio paying off? Current period of every project.",
            "now-30d",
        )
        .with_row(Row("Portfolio"))
        .with_panel(
            stat_panel(
                "Projects meeting objectives",
                "Share of judged projects whose every target is met: met / (met + at risk + off"
                " target). Projects with insufficient data or no objectives are not judged."
                + see("portfolio"),
                "percentunit",
                query("outcomes:portfolio_meeting_objectives:ratio", instant=True),
                thresholds=MEETING,
            ).color_mode(_BACKGROUND)
        )
        .with_panel(
            _status_counts(
                "Projects by status",
                "How many projects are in each status now (a project's status is its worst"
                " target)." + see("statuses"),
                "outcomes:portfolio_projects:sum",
                width=18,
            )
        )
        .with_panel(
            _by_kind(
                f"Net value this period ({MONEY})",
                "Value (savings + time saved × hourly rate) minus cost, summed over projects"
                " per period kind: monthly projects over this month, quarterly ones over this"
                " quarter (never added together)." + see("formulas"),
                "outcomes:period_net_value:sum",
            )
        )
        .with_panel(
            _by_kind(
                f"Value this period ({MONEY})",
                "Savings plus time saved valued at each project's hourly rate, per period kind."
                + see("formulas"),
                "outcomes:period_value:sum",
            )
        )
        .with_panel(
            _by_kind(
                f"Cost this period ({MONEY})",
                "Booked costs plus run costs, per period kind; credits are negative."
                + see("formulas"),
                "outcomes:period_cost:sum",
            )
        )
        .with_panel(
            merged(
                table_panel(
                    "Projects needing attention (lowest attainment first)",
                    "Each project's worst target attainment (projected / objective, or the error"
                    " budget ratio for uptime and success rate) and its status. Click a project"
                    " for its board." + see("attainment"),
                    query(
                        "bottomk(15, min by (project) (outcomes_target_attainment_ratio))",
                        instant=True,
                    ),
                    query(status_code(by="project"), instant=True),
                    width=24,
                ),
                {"Value #A": "Worst attainment", "Value #B": "Status", "project": "Project"},
            )
            .data_links([to_project()])
            .with_override(*attainment_column("Worst attainment"))
            .with_override(*status_column("Status"))
        )
        .with_row(Row("By team, sponsor and stage"))
        .with_panel(
            bars(
                "Meeting objectives by team",
                "Per team, the share of its judged projects meeting every objective. Click a"
                " team for its board." + see("portfolio"),
                "percentunit",
                query("outcomes:team_meeting_objectives:ratio", "{{team}}", instant=True),
                thresholds=MEETING,
            ).data_links([to_team("${__field.labels.team}")])
        )
        .with_panel(
            bars(
                f"Value by team, this period ({MONEY})",
                "Value of each team's projects in their current period, monthly and quarterly"
                " projects apart." + see("formulas"),
                "none",
                query(
                    'outcomes:period_value:team{currency="$currency"}',
                    "{{team}} ({{kind}})",
                    instant=True,
                ),
            ).data_links([to_team("${__field.labels.team}")])
        )
        .with_panel(
            bars(
                f"Cost by team, this period ({MONEY})",
                "Cost of each team's projects in their current period, monthly and quarterly"
                " projects apart." + see("formulas"),
                "none",
                query(
                    'outcomes:period_cost:team{currency="$currency"}',
                    "{{team}} ({{kind}})",
                    instant=True,
                ),
            ).data_links([to_team("${__field.labels.team}")])
        )
        .with_panel(
            table_panel(
                "Projects by sponsor and status",
                "How many projects each sponsor has in each status." + see("statuses"),
                query("outcomes:sponsor_projects:sum > 0", instant=True),
            )
        )
        .with_panel(
            table_panel(
                "Projects by stage and status",
                "How many projects are in each stage (pilot, production, …) and status."
                + see("statuses"),
                query("outcomes:stage_projects:sum > 0", instant=True),
            )
        )
        .with_panel(
            series_panel(
                f"Lifetime value, cost and budget ({MONEY})",
                "Since each project's first event: value and cost, against the declared total"
                " budgets." + see("lifetime"),
                "none",
                query(
                    'sum(outcomes_project_lifetime_value{currency="$currency"})', "lifetime value"
                ),
                query('sum(outcomes_project_lifetime_cost{currency="$currency"})', "lifetime cost"),
                query('sum(outcomes_project_budget{currency="$currency"})', "declared budget"),
                width=24,
            )
        )
    )


def _status_counts(
    title: str, description: str, record: str, matchers: str = "", width: int = 12
) -> stat.Panel:
    panel = stat_panel(
        title,
        description,
        "none",
        *(
            query(
                f'sum({record}{{{matchers}{"," if matchers else ""}status="{name}"}}) or vector(0)',
                name.replace("_", " "),
                instant=True,
            )
            for name, _, _ in STATUS_CODES
        ),
        width=width,
    ).color_mode(_BACKGROUND)
    for name, _, colour in STATUS_CODES:
        panel = panel.with_override(
            *_by_name(name.replace("_", " "), ("color", {"mode": "fixed", "fixedColor": colour}))
        )
    return panel


def team() -> dashboard.Dashboard:
    t = 'team="$team"'
    info = f"max by (project) (outcomes_project_info{{{t}}})"
    return (
        _base(
            "outcomes-team",
            "Outcomes / Team",
            "One team's projects: statuses, attainment, value and cost this period.",
            "now-30d",
        )
        .with_variable(_team_variable())
        .with_row(Row("Team"))
        .with_panel(
            stat_panel(
                "Projects meeting objectives",
                "Share of the team's judged projects whose every target is met." + see("portfolio"),
                "percentunit",
                query(f"outcomes:team_meeting_objectives:ratio{{{t}}}", instant=True),
                thresholds=MEETING,
            ).color_mode(_BACKGROUND)
        )
        .with_panel(
            _status_counts(
                "Projects by status",
                "How many of the team's projects are in each status now." + see("statuses"),
                "outcomes:team_projects:sum",
                t,
                width=18,
            )
        )
        .with_panel(
            merged(
                table_panel(
                    f"Projects: status, worst attainment, value and cost ({MONEY})",
                    "Each project of the team in its current period. Click a project for its"
                    " board." + see("attainment"),
                    query(status_code(by="project") + f" and on (project) {info}", instant=True),
                    query(
                        "min by (project) (outcomes_target_attainment_ratio)"
                        f" and on (project) {info}",
                        instant=True,
                    ),
                    query(
                        f'max by (project) (outcomes_period_value{{currency="$currency"}})'
                        f" and on (project) {info}",
                        instant=True,
                    ),
                    query(
                        f'max by (project) (outcomes_period_cost{{currency="$currency"}})'
                        f" and on (project) {info}",
                        instant=True,
                    ),
                    query(
                        f"max by (project) (outcomes_period_roi_ratio) and on (project) {info}",
                        instant=True,
                    ),
                    width=24,
                ),
                {
                    "project": "Project",
                    "Value #A": "Status",
                    "Value #B": "Worst attainment",
                    "Value #C": "Value",
                    "Value #D": "Cost",
                    "Value #E": "ROI",
                },
            )
            .data_links([to_project()])
            .with_override(*status_column("Status"))
            .with_override(*attainment_column("Worst attainment"))
            .with_override(
                *_by_name(
                    "ROI",
                    ("unit", "percentunit"),
                    ("thresholds", ROI.build()),
                    ("custom.cellOptions", {"type": "color-text"}),
                )
            )
        )
        .with_panel(
            series_panel(
                f"Value and cost this period ({MONEY})",
                "The team's projects' value and cost in their current periods, over time"
                " (each drops to zero when its period starts)." + see("formulas"),
                "none",
                query(
                    f'sum by (kind) (outcomes:period_value:team{{{t},currency="$currency"}})',
                    "value ({{kind}})",
                ),
                query(
                    f'sum by (kind) (outcomes:period_cost:team{{{t},currency="$currency"}})',
                    "cost ({{kind}})",
                ),
                width=24,
            )
        )
    )


def project() -> dashboard.Dashboard:
    p = 'project="$project"'
    project_var = (
        QueryVariable("project")
        .label("Project")
        .datasource(DATASOURCE)
        .query('label_values(outcomes_project_info{team=~"$team"}, project)')
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )
    unit = (
        'label_replace(label_replace(label_replace({metric}{{{p}}}, "unit", "ratio", "target",'
        ' "uptime|success_rate|roi"), "unit", "$currency", "target", "savings"), "unit",'
        ' "seconds", "target", "time_saved")'
    )
    return (
        _base(
            "outcomes-project",
            "Outcomes / Project",
            "One project: each objective against realized and projected values.",
            "now-30d",
        )
        .with_variable(_team_variable().include_all(True).all_value(".*"))
        .with_variable(project_var)
        .with_row(Row("Objectives"))
        .with_panel(
            status_panel(
                "Status",
                "The project's status: its worst judged target; insufficient data while no"
                " target can be judged yet; unscoped without objectives." + see("statuses"),
                status_code(p),
            ).data_links([to_team("${team}")])
        )
        .with_panel(
            merged(
                table_panel(
                    "Targets: objective, projected, attainment",
                    "One row per declared target. Objective and projection are in the target's"
                    " unit (ratio for uptime, success rate and ROI; the currency for savings;"
                    " seconds for time saved). Attainment is projected / objective (uptime and"
                    " success rate: the error budget ratio, capped at 10); below 80% is off"
                    " target." + see("attainment"),
                    query(unit.format(metric="outcomes_target_objective", p=p), instant=True),
                    query(f"outcomes_target_projected{{{p}}}", instant=True),
                    query(f"outcomes_target_attainment_ratio{{{p}}}", instant=True),
                    width=18,
                ),
                {
                    "target": "Target",
                    "unit": "Unit",
                    "Value #A": "Objective",
                    "Value #B": "Projected",
                    "Value #C": "Attainment",
                },
                hidden=("project", "instance", "job", "__name__"),
            ).with_override(*attainment_column("Attainment"))
        )
        .with_panel(
            series_panel(
                "Attainment by target",
                "Attainment of each target over time; 100% = on track to meet the objective,"
                " below 80% = off target." + see("attainment"),
                "percentunit",
                query(f"outcomes_target_attainment_ratio{{{p}}}", "{{target}}"),
                width=24,
            ).thresholds(ATTAINMENT)
        )
        .with_row(Row("Realized this period"))
        .with_panel(
            stat_panel(
                "Time saved",
                "Manual time of succeeded runs minus human effort on all runs, this period."
                + see("formulas"),
                "h",
                query(f"outcomes:period_time_saved:hours{{{p}}}", instant=True),
            )
        )
        .with_panel(
            stat_panel(
                f"Value and cost ({MONEY})",
                "Value = savings + time saved × hourly rate; cost = booked costs + run costs,"
                " this period." + see("formulas"),
                "none",
                query(f'outcomes_period_value{{{p},currency="$currency"}}', "value", instant=True),
                query(f'outcomes_period_cost{{{p},currency="$currency"}}', "cost", instant=True),
            ).decimals(2)
        )
        .with_panel(
            stat_panel(
                "ROI",
                "Net value / cost this period (absent while cost is 0). Red below 0: the"
                " project costs more than it returns." + see("formulas"),
                "percentunit",
                query(f"outcomes_period_roi_ratio{{{p}}}", instant=True),
                thresholds=ROI,
            ).color_mode(_BACKGROUND)
        )
        .with_panel(
            stat_panel(
                "Uptime",
                "1 − downtime / observed over the declared services this period." + see("formulas"),
                "percentunit",
                query(f"outcomes_period_uptime_ratio{{{p}}}", instant=True),
            ).decimals(3)
        )
        .with_row(Row("Runs"))
        .with_panel(
            series_panel(
                "Runs by outcome",
                "Runs reported per interval, by outcome (succeeded, failed, cancelled)."
                + see("events"),
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
                "Success rate = succeeded / (succeeded + failed); intervention rate = runs with"
                " human effort / all runs, this period." + see("formulas"),
                "percentunit",
                query(f"outcomes_period_success_ratio{{{p}}}", "success"),
                query(f"outcomes_period_intervention_ratio{{{p}}}", "intervention"),
            )
        )
        .with_row(Row("Incidents"))
        .with_panel(
            stat_panel(
                "Open incidents",
                "Incidents of the project's services open now (incidents basis)."
                + see("incidents"),
                "short",
                query(f"sum(outcomes_incidents_open{{{p}}}) or vector(0)", instant=True),
            )
        )
        .with_panel(
            stat_panel(
                "Longest open incident (0: none open)",
                "How long the oldest open incident has been open." + see("incidents"),
                "s",
                query(
                    f"(time() - min(outcomes_incidents_open_since_timestamp_seconds{{{p}}}))"
                    " or vector(0)",
                    instant=True,
                ),
            )
        )
        .with_panel(
            merged(
                table_panel(
                    "Incidents by service",
                    "Per service: incidents open now, resolved (lifetime), and resolutions"
                    " waiting for their start." + see("incidents"),
                    query(f"max by (service) (outcomes_incidents_open{{{p}}})", instant=True),
                    query(f"max by (service) (outcomes_incidents_total{{{p}}})", instant=True),
                    query(f"max by (service) (outcomes_incidents_pending{{{p}}})", instant=True),
                ),
                {
                    "service": "Service",
                    "Value #A": "Open",
                    "Value #B": "Resolved",
                    "Value #C": "Awaiting start",
                },
            )
        )
        .with_panel(
            series_panel(
                "Downtime this period, per service counted for uptime",
                "Downtime within the current period of each declared service (windows or"
                " incidents basis)." + see("formulas"),
                "s",
                query(f"outcomes_period_downtime_seconds{{{p}}}", "{{service}}"),
            )
        )
        .with_panel(
            series_panel(
                "Open incidents over time",
                "Open incidents per service over time." + see("incidents"),
                "short",
                query(f"outcomes_incidents_open{{{p}}}", "{{service}}"),
            )
        )
        .with_row(Row("Money"))
        .with_panel(
            bars(
                f"Cost by category, lifetime ({MONEY})",
                "All costs since the first event minus credits and corrections, by category"
                " (run costs are `run`)." + see("metrics"),
                "none",
                query(
                    f'sum by (category) (outcomes_cost_total{{{p},currency="$currency"}}) - ('
                    f'sum by (category) (outcomes_cost_credits_total{{{p},currency="$currency"}})'
                    f' or 0 * sum by (category) (outcomes_cost_total{{{p},currency="$currency"}}))',
                    "{{category}}",
                    instant=True,
                ),
                width=12,
            )
        )
        .with_panel(
            bars(
                f"Savings by category, lifetime ({MONEY})",
                "All realized savings since the first event, by category." + see("metrics"),
                "none",
                query(
                    f'sum by (category) (outcomes_savings_total{{{p},currency="$currency"}})',
                    "{{category}}",
                    instant=True,
                ),
                width=12,
            )
        )
        .with_panel(
            series_panel(
                f"Lifetime value, cost and budget ({MONEY})",
                "Value and cost since the first event, against the declared budget."
                + see("lifetime"),
                "none",
                query(f'outcomes_project_lifetime_value{{{p},currency="$currency"}}', "value"),
                query(f'outcomes_project_lifetime_cost{{{p},currency="$currency"}}', "cost"),
                query(f'outcomes_project_budget{{{p},currency="$currency"}}', "budget"),
            )
        )
        .with_panel(
            stat_panel(
                "Since last event",
                'Time since the project\'s newest event; "never reported" for a declared'
                " project that has sent nothing since its declaration took effect (the stalled"
                " alert fires after 3 days either way)." + see("metrics"),
                "s",
                query(
                    f"(time() - max(outcomes_project_last_event_timestamp_seconds{{{p}}}))"
                    f" or (max(outcomes_project_declared_timestamp_seconds{{{p}}}) * 0 - 1)",
                    instant=True,
                ),
                width=12,
            ).mappings([ValueMap({"-1": ValueMappingResult(text="never reported", color="red")})])
        )
    )


def collector() -> dashboard.Dashboard:
    return (
        _base(
            "outcomes-collector",
            "Outcomes / Collector health",
            "Ingest, dead letters, lag, delay and freshness of the collectors.",
            "now-6h",
        )
        .with_row(Row("Ingest"))
        .with_panel(
            series_panel(
                "Events by result",
                "Events per second by result: accepted, duplicate, rejected, translated,"
                " ignored." + see("metrics"),
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
                "Rejected events by reason over the range; they wait in the dead-letter topic"
                " (`outcomes dlq tail`)." + see("metrics"),
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
                "Events on the topic not yet applied, per collector and partition."
                + see("metrics"),
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
                "99th percentile of the time from an event's time to its being counted."
                + see("metrics"),
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
                "Tool webhooks received by the gateway, by integration and result."
                + see("metrics"),
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
                "Time since the newest event of any project." + see("metrics"),
                "s",
                query("time() - max(outcomes_project_last_event_timestamp_seconds)", instant=True),
            )
        )
        .with_panel(
            stat_panel(
                "Collectors up",
                "Collector instances Prometheus scrapes successfully.",
                "none",
                query('sum(up{job="outcomes-collector"})', instant=True),
            )
        )
        .with_panel(
            stat_panel(
                "Invalid declaration files",
                "Declaration files the collectors refuse (the DeclarationInvalid alert)."
                + see("declarations"),
                "none",
                query(
                    "count(outcomes_collector_declaration_file_valid == 0) or vector(0)",
                    instant=True,
                ),
                thresholds=_steps((None, "green"), (1.0, "red")),
            ).color_mode(_BACKGROUND)
        )
        .with_panel(
            stat_panel(
                "Label values folded into other",
                "Automations, services or projects beyond the cardinality limits, counted"
                " under `other`." + see("metrics"),
                "none",
                query("sum(outcomes_collector_label_overflow_total) or vector(0)", instant=True),
            )
        )
        .with_panel(
            table_panel(
                "Versions",
                "The collector versions running now (one row per instance).",
                query("outcomes_collector_build_info", instant=True),
                width=24,
            )
        )
    )


BOARDS: dict[str, Callable[[], dashboard.Dashboard]] = {
    "portfolio": portfolio,
    "team": team,
    "project": project,
    "collector": collector,
}


def _finish(board: DashboardModel) -> DashboardModel:
    """Links between the boards keep the time range and the variables."""
    for item in board.links or []:
        if item.type_val == DashboardLinkType.DASHBOARDS:
            item.include_vars = True
            item.keep_time = True
    return board


def render() -> dict[str, str]:
    encoder = JSONEncoder(sort_keys=True, indent=2)
    return {
        f"{name}.json": encoder.encode(_finish(make().build())) + "\n"
        for name, make in BOARDS.items()
    }


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(OUT / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
