"""The team (one team's projects) board."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.builders.dashboard import Row

from boards.kit import (
    BACKGROUND,
    MEETING,
    MONEY,
    MONEY_UNIT,
    ROI,
    attainment_column,
    base,
    by_name,
    merged,
    query,
    see,
    series_panel,
    stat_panel,
    status_code,
    status_column,
    status_counts,
    table_panel,
    team_variable,
    to_project,
)


def team() -> dashboard.Dashboard:
    t = 'team="$team"'
    info = f"max by (project) (outcomes_project_info{{{t}}})"
    return (
        base(
            "outcomes-team",
            "Outcomes / Team",
            "One team's projects: statuses, attainment, value and cost this period.",
            "now-30d",
        )
        .with_variable(team_variable())
        .with_row(Row("Team"))
        .with_panel(
            stat_panel(
                "Projects meeting objectives",
                "Share of the team's judged projects whose every target is met." + see("portfolio"),
                "percentunit",
                query(f"outcomes:team_meeting_objectives:ratio{{{t}}}", instant=True),
                thresholds=MEETING,
            ).color_mode(BACKGROUND)
        )
        .with_panel(
            status_counts(
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
                *by_name(
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
                MONEY_UNIT,
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
