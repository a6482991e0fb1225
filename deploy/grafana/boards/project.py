"""The project (one project: targets, trends, runs, incidents) board."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, table
from grafana_foundation_sdk.builders.dashboard import QueryVariable, Row
from grafana_foundation_sdk.models.dashboard import (
    DataTransformerConfig,
    ValueMap,
    ValueMappingResult,
    VariableRefresh,
    VariableSort,
)

from boards.kit import (
    ATTAINMENT,
    BACKGROUND,
    DATASOURCE,
    MONEY,
    MONEY_UNIT,
    ROI,
    attainment_column,
    bars,
    base,
    by_name,
    closed_status_code,
    merged,
    query,
    readiness_columns,
    see,
    series_panel,
    stat_panel,
    status_code,
    status_column,
    status_panel,
    table_panel,
    team_variable,
    to_team,
)

CHECK_COLUMN, RESULT_COLUMN = readiness_columns("Check", "Result")


def _hours(metric: str, p: str) -> str:
    """A target family with time saved in hours (the others as they are)."""
    return f'({metric}{{{p},target!="time_saved"}} or {metric}{{{p},target="time_saved"}} / 3600)'


def closed_periods(p: str) -> table.Panel:
    return (
        merged(
            table_panel(
                f"Closed periods: value, cost, time saved, uptime, status ({MONEY})",
                "Each closed month (and quarter, for a quarterly project) as the report shows"
                " it; the status it ended with for the project's own period kind."
                + see("closed-periods-month-over-month"),
                *(
                    query(f"max by (period, kind) ({expr})", instant=True)
                    for expr in (
                        f'outcomes_closed_period_value{{{p},currency="$currency"}}',
                        f'outcomes_closed_period_cost{{{p},currency="$currency"}}',
                        f"outcomes_closed_period_time_saved_seconds{{{p}}} / 3600",
                        f"outcomes_closed_period_uptime_ratio{{{p}}}",
                    )
                ),
                query(closed_status_code(p), instant=True),
                width=14,
            ),
            {
                "period": "Period",
                "kind": "Kind",
                "Value #A": "Value",
                "Value #B": "Cost",
                "Value #C": "Time saved (h)",
                "Value #D": "Uptime",
                "Value #E": "Status",
            },
        )
        .with_transformation(
            DataTransformerConfig(
                id_val="sortBy", options={"sort": [{"field": "Period", "desc": True}]}
            )
        )
        .with_override(*by_name("Value", ("unit", MONEY_UNIT), ("decimals", 2)))
        .with_override(*by_name("Cost", ("unit", MONEY_UNIT), ("decimals", 2)))
        .with_override(*by_name("Time saved (h)", ("unit", "h"), ("decimals", 1)))
        .with_override(*by_name("Uptime", ("unit", "percentunit"), ("decimals", 3)))
        .with_override(*status_column("Status"))
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
        'label_replace(label_replace(label_replace({metric}, "unit", "ratio", "target",'
        ' "uptime|success_rate|acceptance_rate|roi"), "unit", "$currency", "target",'
        ' "savings"), "unit", "hours", "target", "time_saved")'
    )
    return (
        base(
            "outcomes-project",
            "Outcomes / Project",
            "One project: each objective against realized and projected values.",
            "now-30d",
        )
        .with_variable(team_variable().include_all(True).all_value(".*"))
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
                    " hours for time saved). Attainment is projected / objective (uptime and"
                    " success rate: the error budget left, capped at 10, shown as ≥ 10×"
                    " budget); below 80% is off target." + see("attainment"),
                    query(unit.format(metric=_hours("outcomes_target_objective", p)), instant=True),
                    query(_hours("outcomes_target_projected", p), instant=True),
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
        .with_panel(
            merged(
                table_panel(
                    "Decision in force",
                    "What the latest portfolio review decided (kind: Decision): scale,"
                    " continue, pause, stop or extend, who owns it, and when it is to be"
                    " reviewed by. Past that date with no later decision, ProjectDecisionOverdue"
                    " fires." + see("decisions"),
                    query(f"outcomes_project_decision_info{{{p}}}", instant=True),
                    query(
                        f"outcomes_project_review_due_timestamp_seconds{{{p}}} * 1000", instant=True
                    ),
                    width=24,
                ),
                {"decision": "Decision", "owner": "Owner", "Value #B": "Review by"},
                hidden=("project", "instance", "job", "__name__", "Value #A"),
            ).with_override(*by_name("Review by", ("unit", "dateTimeAsIso")))
        )
        .with_panel(
            merged(
                table_panel(
                    "Ready to be judged?",
                    "The readiness checks: whether the project's ROI can be judged at all. A"
                    " missing one says what to declare or report; ProjectNotReady pages a"
                    " production project after 6 hours. outcomes report says it in words."
                    + see("readiness"),
                    query(f"max by (check) (outcomes_project_readiness{{{p}}})", instant=True),
                    width=24,
                ),
                {"check": "Check", "Value": "Result"},
            )
            .with_override(*CHECK_COLUMN)
            .with_override(*RESULT_COLUMN)
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
                MONEY_UNIT,
                query(f'outcomes_period_value{{{p},currency="$currency"}}', "value", instant=True),
                query(f'outcomes_period_cost{{{p},currency="$currency"}}', "cost", instant=True),
            ).decimals(2)
        )
        .with_panel(
            stat_panel(
                f"Value: measured + estimated ({MONEY})",
                "Measured: savings read off bills, invoices or meters (evidence: measured)."
                " Estimated: other savings, and time saved valued at the hourly rate in force"
                " (an assumption: see the hourly rate and the baselines of the runs). The two"
                " add up to the value." + see("formulas"),
                MONEY_UNIT,
                query(
                    f'outcomes_period_value_by_evidence{{{p},currency="$currency",'
                    'evidence="measured"}',
                    "measured",
                    instant=True,
                ),
                query(
                    f'outcomes_period_value_by_evidence{{{p},currency="$currency",'
                    'evidence="estimated"}',
                    "estimated",
                    instant=True,
                ),
            ).decimals(2)
        )
        .with_panel(
            stat_panel(
                f"Hourly rate ({MONEY})",
                "Per hour: the declared hourly rate in force that values time saved (the"
                " deployment's default when none is declared: readiness then fails its baseline"
                " check)." + see("declarations"),
                MONEY_UNIT,
                query(f'outcomes_project_hourly_rate{{{p},currency="$currency"}}', instant=True),
            ).decimals(2)
        )
        .with_panel(
            merged(
                table_panel(
                    "Baselines: manual time per succeeded run",
                    "What estimated time saved rests on: per automation, the manual time its"
                    " succeeded runs this period reported (manual_duration_s, or the"
                    " integration rule's manualDurationS), per run." + see("formulas"),
                    query(
                        f"max by (automation) (outcomes_period_baseline_seconds{{{p}}})",
                        instant=True,
                    ),
                    width=12,
                ),
                {"automation": "Automation", "Value": "Manual time per run"},
            ).with_override(*by_name("Manual time per run", ("unit", "s")))
        )
        .with_panel(
            stat_panel(
                "ROI",
                "Net value / cost this period (absent while cost is 0). Red below 0: the"
                " project costs more than it returns." + see("formulas"),
                "percentunit",
                query(f"outcomes_period_roi_ratio{{{p}}}", instant=True),
                thresholds=ROI,
            ).color_mode(BACKGROUND)
        )
        .with_panel(
            stat_panel(
                "Uptime",
                "1 − downtime / observed over the declared services this period." + see("formulas"),
                "percentunit",
                query(f"outcomes_period_uptime_ratio{{{p}}}", instant=True),
            ).decimals(3)
        )
        .with_row(Row("Month over month"))
        .with_panel(
            bars(
                f"Value by closed month ({MONEY})",
                "The project's value in each of its last closed months (12 at most; none"
                " before the project was known), restated by late events and history imports."
                + see("closed-periods-month-over-month"),
                MONEY_UNIT,
                query(
                    f'outcomes_closed_period_value{{{p},kind="month",currency="$currency"}}',
                    "{{period}}",
                    instant=True,
                ),
                width=10,
            )
        )
        .with_panel(closed_periods(p))
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
        .with_row(Row("AI"))
        .with_panel(
            series_panel(
                "Tokens by model (per hour)",
                "Tokens of the project's model calls per hour, by model and type (input"
                " includes cached, output includes reasoning)." + see("outcomesaiusage"),
                "short",
                query(
                    f"sum by (model, type) (increase(outcomes_ai_tokens_total{{{p}}}[1h]))",
                    "{{model}} {{type}}",
                ),
            )
        )
        .with_panel(
            stat_panel(
                f"AI cost this period ({MONEY})",
                "Cost of the project's model calls this period; part of its cost." + see("ai-cost"),
                MONEY_UNIT,
                query(f'outcomes_period_ai_cost{{{p},currency="$currency"}}', instant=True),
            )
        )
        .with_panel(
            stat_panel(
                f"Cost per success ({MONEY})",
                "The period's whole cost (model calls included) per succeeded run."
                + see("metrics"),
                MONEY_UNIT,
                query(
                    f'outcomes_period_cost_per_success{{{p},currency="$currency"}}', instant=True
                ),
            )
        )
        .with_panel(
            bars(
                f"AI cost by model, lifetime ({MONEY})",
                "Cost of model calls since the first event, by model and where the price came"
                " from (provider, price_book, catalogue)." + see("ai-cost"),
                MONEY_UNIT,
                query(
                    f'sum by (model, source) (outcomes_ai_cost_total{{{p},currency="$currency"}})',
                    "{{model}} ({{source}})",
                    instant=True,
                ),
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Unpriced model calls (24 h)",
                "Calls no price was found for in the last 24 hours: their cost is missing"
                " (alert AIModelUnpriced)." + see("ai-cost"),
                "short",
                query(
                    f"sum(increase(outcomes_ai_unpriced_calls_total{{{p}}}[24h])) or vector(0)",
                    instant=True,
                ),
                width=6,
            )
        )
        .with_row(Row("Human review"))
        .with_panel(
            series_panel(
                "Reviews by verdict",
                "A person's verdicts on the project's runs per interval: accepted, edited,"
                " rejected (done by hand), escalated." + see("human-review"),
                "none",
                query(
                    f"sum by (verdict) (increase(outcomes_reviews_total{{{p}}}[$__rate_interval]))",
                    "{{verdict}}",
                ),
            )
        )
        .with_panel(
            series_panel(
                "Acceptance and coverage",
                "Acceptance rate = (accepted + edited) / reviewed runs; review coverage ="
                " reviewed runs / runs, this period." + see("human-review"),
                "percentunit",
                query(f"outcomes_period_acceptance_ratio{{{p}}}", "acceptance"),
                query(f"outcomes_period_review_coverage_ratio{{{p}}}", "coverage"),
            )
        )
        .with_panel(
            stat_panel(
                "Time saved forfeited this period",
                "Manual time of succeeded runs a reviewer rejected or escalated: a person did"
                " the work, so it is not time saved." + see("human-review"),
                "h",
                query(f"outcomes_period_time_forfeited_seconds{{{p}}} / 3600", instant=True),
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Reviews waiting for their run",
                "Reviews whose run has not arrived; once their period closes they are"
                " dead-lettered unmatched." + see("human-review"),
                "short",
                query(f"outcomes_reviews_pending{{{p}}}", instant=True),
                width=6,
            )
        )
        .with_row(Row("Money"))
        .with_panel(
            bars(
                f"Cost by category, lifetime ({MONEY})",
                "All costs since the first event minus credits and corrections, by category"
                " (run costs are `run`)." + see("metrics"),
                MONEY_UNIT,
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
                MONEY_UNIT,
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
                MONEY_UNIT,
                query(f'outcomes_project_lifetime_value{{{p},currency="$currency"}}', "value"),
                query(f'outcomes_project_lifetime_cost{{{p},currency="$currency"}}', "cost"),
                query(f'outcomes_project_budget{{{p},currency="$currency"}}', "budget"),
            )
        )
        .with_panel(
            stat_panel(
                "Since last event",
                "Time since the collector last received an event of the project (a history"
                ' import counts: it is not silence); "never reported" for a declared'
                " project that has sent nothing since its declaration took effect (the stalled"
                " alert fires after 3 days either way)." + see("metrics"),
                "s",
                query(
                    f"(time() - max(outcomes_project_last_received_timestamp_seconds{{{p}}}"
                    f" or outcomes_project_last_event_timestamp_seconds{{{p}}}))"
                    f" or (max(outcomes_project_declared_timestamp_seconds{{{p}}}) * 0 - 1)",
                    instant=True,
                ),
                width=12,
            ).mappings([ValueMap({"-1": ValueMappingResult(text="never reported", color="red")})])
        )
    )
