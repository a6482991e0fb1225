"""The portfolio (leaders: every project, by status, team and period kind) board."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, table
from grafana_foundation_sdk.builders.dashboard import Row
from grafana_foundation_sdk.models.dashboard import DataTransformerConfig

from boards.kit import (
    BACKGROUND,
    MEETING,
    MONEY,
    MONEY_UNIT,
    attainment_column,
    bars,
    base,
    by_kind,
    by_name,
    merged,
    query,
    readiness_columns,
    see,
    series_panel,
    stat_panel,
    status_code,
    status_column,
    status_counts,
    status_label_column,
    table_panel,
    to_project,
    to_team,
)


def closed_months() -> table.Panel:
    money = '{kind="month",currency="$currency"}'
    value, cost = f"outcomes_closed_period_value{money}", f"outcomes_closed_period_cost{money}"
    return (
        merged(
            table_panel(
                f"Closed months: value, cost, net value, time saved ({MONEY})",
                "Sums over every project of each closed calendar month, newest first."
                + see("closed-periods-month-over-month"),
                query(f"sum by (period) ({value})", instant=True),
                query(f"sum by (period) ({cost})", instant=True),
                query(f"sum by (period) ({value}) - sum by (period) ({cost})", instant=True),
                query(
                    'sum by (period) (outcomes_closed_period_time_saved_seconds{kind="month"})'
                    " / 3600",
                    instant=True,
                ),
                width=14,
            ),
            {
                "period": "Month",
                "Value #A": "Value",
                "Value #B": "Cost",
                "Value #C": "Net value",
                "Value #D": "Time saved (h)",
            },
        )
        .with_transformation(
            DataTransformerConfig(
                id_val="sortBy", options={"sort": [{"field": "Month", "desc": True}]}
            )
        )
        .with_override(*by_name("Value", ("unit", MONEY_UNIT), ("decimals", 2)))
        .with_override(*by_name("Cost", ("unit", MONEY_UNIT), ("decimals", 2)))
        .with_override(*by_name("Net value", ("unit", MONEY_UNIT), ("decimals", 2)))
        .with_override(*by_name("Time saved (h)", ("unit", "h"), ("decimals", 1)))
    )


CHECK_COLUMN, _ = readiness_columns("Missing", "Result")


def portfolio() -> dashboard.Dashboard:
    return (
        base(
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
            ).color_mode(BACKGROUND)
        )
        .with_panel(
            stat_panel(
                "Ready to be judged",
                "Share of projects whose every readiness check passes: owner, sponsor, a"
                " measurable objective, a baseline, recent data for each objective, and a"
                " pilot's scope. The table below says what the others miss." + see("readiness"),
                "percentunit",
                query("sum(outcomes_project_ready) / count(outcomes_project_ready)", instant=True),
                thresholds=MEETING,
            ).color_mode(BACKGROUND)
        )
        .with_panel(
            status_counts(
                "Projects by status",
                "How many projects are in each status now (a project's status is its worst"
                " target)." + see("statuses"),
                "outcomes:portfolio_projects:sum",
                width=18,
            )
        )
        .with_panel(
            by_kind(
                f"Net value this period ({MONEY})",
                "Value (savings + time saved × hourly rate) minus cost, summed over projects"
                " per period kind: monthly projects over this month, quarterly ones over this"
                " quarter (never added together)." + see("formulas"),
                "outcomes:period_net_value:sum",
            )
        )
        .with_panel(
            by_kind(
                f"Value this period ({MONEY})",
                "Savings plus time saved valued at each project's hourly rate, per period kind."
                + see("formulas"),
                "outcomes:period_value:sum",
            )
        )
        .with_panel(
            stat_panel(
                f"Value this period: measured + estimated ({MONEY})",
                "Measured: savings read off bills, invoices or meters. Estimated: other"
                " savings, and time saved valued at the hourly rates in force (assumptions)."
                " Per period kind; each pair adds up to the value." + see("formulas"),
                MONEY_UNIT,
                *(
                    query(
                        "outcomes:period_value_by_evidence:sum"
                        f'{{currency="$currency",kind="{kind}",evidence="{evidence}"}}',
                        f"{kind}ly projects, {evidence}",
                        instant=True,
                    )
                    for kind in ("month", "quarter")
                    for evidence in ("measured", "estimated")
                ),
                width=8,
            ).decimals(2)
        )
        .with_panel(
            by_kind(
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
        .with_panel(
            merged(
                table_panel(
                    "Not ready to be judged",
                    "Each readiness check a project fails, in words: what to declare or report"
                    " before its ROI can be judged. Production projects page (ProjectNotReady)"
                    " after 6 hours. Click a project for its board." + see("readiness"),
                    query(
                        "max by (project, check) (outcomes_project_readiness) == 0",
                        instant=True,
                    ),
                    width=24,
                ),
                {"project": "Project", "check": "Missing", "Value": "Result"},
                hidden=("Value",),
            )
            .data_links([to_project()])
            .with_override(*CHECK_COLUMN)
        )
        .with_row(Row("Month over month"))
        .with_panel(
            bars(
                f"Value by closed month, all projects ({MONEY})",
                "Every project's value in each of the last closed calendar months (quarterly"
                " projects' months included: months are never added to quarters), restated by"
                " late events and history imports." + see("closed-periods-month-over-month"),
                MONEY_UNIT,
                query(
                    "sum by (period) (outcomes_closed_period_value"
                    '{kind="month",currency="$currency"})',
                    "{{period}}",
                    instant=True,
                ),
                width=10,
            )
        )
        .with_panel(closed_months())
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
                MONEY_UNIT,
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
                MONEY_UNIT,
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
            ).with_override(*status_label_column())
        )
        .with_panel(
            table_panel(
                "Projects by stage and status",
                "How many projects are in each stage (pilot, production, …) and status."
                + see("statuses"),
                query("outcomes:stage_projects:sum > 0", instant=True),
            ).with_override(*status_label_column())
        )
        .with_panel(
            series_panel(
                f"Lifetime value, cost and budget ({MONEY})",
                "Since each project's first event: value and cost, against the declared total"
                " budgets." + see("lifetime"),
                MONEY_UNIT,
                query(
                    'sum(outcomes_project_lifetime_value{currency="$currency"})', "lifetime value"
                ),
                query('sum(outcomes_project_lifetime_cost{currency="$currency"})', "lifetime cost"),
                query('sum(outcomes_project_budget{currency="$currency"})', "declared budget"),
                width=24,
            )
        )
        .with_row(Row("AI projects"))
        .with_panel(
            merged(
                table_panel(
                    f"AI spend against value this period ({MONEY})",
                    "Projects that make model calls: their AI cost this period (tokens priced"
                    " by a price book, the provider or the public catalogue), their whole cost"
                    " and the value they realized. AI spend above value: the project does not"
                    " pay for its model calls. Accepted by reviewers: the share of reviewed runs"
                    " people used; forfeited: the time saved their rejections took back. Click a"
                    " project for its board." + see("ai-cost"),
                    query(
                        'sum by (project) (outcomes_period_ai_cost{currency="$currency"})',
                        instant=True,
                    ),
                    query(
                        'sum by (project) (outcomes_period_cost{currency="$currency"})'
                        " and on (project) outcomes_period_ai_cost",
                        instant=True,
                    ),
                    query(
                        'sum by (project) (outcomes_period_value{currency="$currency"})'
                        " and on (project) outcomes_period_ai_cost",
                        instant=True,
                    ),
                    query(
                        "sum by (project) (increase(outcomes_ai_unpriced_calls_total[24h]))",
                        instant=True,
                    ),
                    query("max by (project) (outcomes_period_acceptance_ratio)", instant=True),
                    query(
                        "max by (project) (outcomes_period_time_forfeited_seconds) / 3600",
                        instant=True,
                    ),
                    width=24,
                ),
                {
                    "Value #A": "AI cost",
                    "Value #B": "Cost",
                    "Value #C": "Value",
                    "Value #D": "Unpriced calls (24 h)",
                    "Value #E": "Accepted by reviewers",
                    "Value #F": "Time saved forfeited (h)",
                    "project": "Project",
                },
            ).data_links([to_project()])
        )
    )
