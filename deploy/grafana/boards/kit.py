"""The panel kit of the dashboards: queries, thresholds, panels, links and the board
skeleton every board shares (grafana-foundation-sdk builders)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import yaml
from grafana_foundation_sdk.builders import bargauge, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders.dashboard import DatasourceVariable, QueryVariable
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DashboardRangeMapOptions,
    DataSourceRef,
    DataTransformerConfig,
    DynamicConfigValue,
    MatcherConfig,
    RangeMap,
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
SITE: Final = yaml.safe_load((Path(__file__).parents[2] / "site.yaml").read_text())
"""deploy/site.yaml: the links and the reporting currency of the deployment."""
REFERENCE: Final = str(SITE["docs_url"]).rstrip("/") + "/REFERENCE.md"
"""Where panel descriptions send a reader for the exact definition: docs_url of
deploy/site.yaml (the repository's docs, as published)."""
GRAFANA_CURRENCIES: Final = frozenset(
    {"USD", "EUR", "GBP", "JPY", "CHF", "SEK", "NOK", "DKK", "INR", "BRL", "PLN"}
)
"""Currencies Grafana has a unit of its own for (`currencyUSD`, …)."""
CURRENCY: Final = str(SITE.get("currency", "USD")).upper()
MONEY_UNIT: Final = (
    f"currency{CURRENCY}" if CURRENCY in GRAFANA_CURRENCIES else f"currency:{CURRENCY}"
)
"""Money panels' unit: Grafana does not read dashboard variables in units, so the
deployment's currency is written into the boards (deploy/site.yaml)."""
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


def steps(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=value, color=colour) for value, colour in steps])
    )


ATTAINMENT = steps((None, "red"), (0.8, "orange"), (1.0, "green"))
"""Target status colours: below 0.8 off target, below 1 at risk, else met."""
ROI = steps((None, "red"), (0.0, "green"))
"""ROI below 0: the project costs more than it returns."""
MEETING = steps((None, "red"), (0.5, "orange"), (0.8, "green"))
NEUTRAL = steps((None, "text"))


def status_mappings() -> list[ValueMap]:
    return [
        ValueMap(
            {
                str(code): ValueMappingResult(text=name.replace("_", " "), color=colour, index=code)
                for name, code, colour in STATUS_CODES
            }
        )
    ]


def status_label_column(name: str = "status") -> Override:
    """A table column holding the status label itself (`met`, `off_target`, …): the status
    word in its colour, as the status-code columns show it."""
    mappings = [
        ValueMap(
            {
                label: ValueMappingResult(text=label.replace("_", " "), color=colour, index=code)
                for label, code, colour in STATUS_CODES
            }
        )
    ]
    return by_name(
        name, ("mappings", mappings), ("custom.cellOptions", {"type": "color-background"})
    )


def ref(index: int) -> str:
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
        panel = panel.with_target(q.ref_id(ref(index)))
    return panel


def status_panel(title: str, description: str, expr: str, width: int = 6) -> stat.Panel:
    return (
        stat_panel(title, description, "none", query(expr, instant=True), width=width)
        .mappings(status_mappings())  # type: ignore[arg-type]
        .color_mode(BACKGROUND)
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
        panel = panel.with_target(q.ref_id(ref(index)))
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
        panel = panel.with_target(q.format(PromQueryFormat.TABLE).ref_id(ref(index)))
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


def by_name(name: str, *properties: tuple[str, object]) -> Override:
    return (
        MatcherConfig(id_val="byName", options=name),
        [DynamicConfigValue(id_val=key, value=value) for key, value in properties],
    )


def attainment_column(name: str) -> Override:
    """A table column of attainments: percent, its cell coloured by target status; the
    cap of uptime and success rate (10 × the error budget) said as such, never 1000%."""
    return by_name(
        name,
        ("unit", "percentunit"),
        ("thresholds", ATTAINMENT.build()),
        ("mappings", attainment_mappings()),
        ("custom.cellOptions", {"type": "color-background"}),
    )


def attainment_mappings() -> list[RangeMap]:
    """At the cap (10): "≥ 10× budget" — an error budget ten or more times what is used."""
    capped = ValueMappingResult(text=ATTAINMENT_CAP_TEXT, color="green", index=0)
    return [RangeMap(DashboardRangeMapOptions(from_val=10.0, to=None, result=capped))]


ATTAINMENT_CAP_TEXT: Final = "≥ 10× budget"

READINESS_WORDS: Final = {
    "owner": "an owner is declared",
    "sponsor": "a sponsor is declared",
    "objectives": "at least one measurable objective",
    "baseline": "a declared hourly rate; manual times on runs when time saved is an objective",
    "data": "each objective's inputs reported within 7 days",
    "scope": "a pilot has stageSince and a decision with reviewBy",
}
"""What each readiness check asks, as the boards say it."""


def readiness_columns(check: str, result: str) -> tuple[Override, Override]:
    """The check column in words, the result column as `ready` / `missing` in colour."""
    words = [
        ValueMap(
            {
                name: ValueMappingResult(text=f"{name}: {text}", index=index)
                for index, (name, text) in enumerate(READINESS_WORDS.items())
            }
        )
    ]
    passed = [
        ValueMap(
            {
                "1": ValueMappingResult(text="ready", color="green", index=0),
                "0": ValueMappingResult(text="missing", color="red", index=1),
            }
        )
    ]
    return (
        by_name(check, ("mappings", words)),
        by_name(result, ("mappings", passed), ("custom.cellOptions", {"type": "color-background"})),
    )


def closed_status_code(matchers: str) -> str:
    """PromQL: the status code (`status_code`) each closed period ended with, by period."""
    each = " or ".join(
        f'outcomes_closed_period_status{{{matchers},status="{name}"}} * {code}'
        for name, code, _ in STATUS_CODES
    )
    return f"sum by (period, kind) ({each})"  # one status per period: the sum is its code


def status_column(name: str) -> Override:
    """A table column of status codes (`status_code`): the status word in its colour."""
    return by_name(
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


BACKGROUND = stat.common.BigValueColorMode.BACKGROUND  # type: ignore[attr-defined]


def base(uid: str, title: str, description: str, since: str) -> dashboard.Dashboard:
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


def team_variable() -> QueryVariable:
    return (
        QueryVariable("team")
        .label("Team")
        .datasource(DATASOURCE)
        .query("label_values(outcomes_project_info, team)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )


def by_kind(title: str, description: str, record: str) -> stat.Panel:
    return stat_panel(
        title,
        description,
        MONEY_UNIT,
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


def status_counts(
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
    ).color_mode(BACKGROUND)
    for name, _, colour in STATUS_CODES:
        panel = panel.with_override(
            *by_name(name.replace("_", " "), ("color", {"mode": "fixed", "fixedColor": colour}))
        )
    return panel
