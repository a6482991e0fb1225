"""The collector health board."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.builders.dashboard import Row

from boards.kit import (
    BACKGROUND,
    base,
    query,
    see,
    series_panel,
    stat_panel,
    steps,
    table_panel,
)


def collector() -> dashboard.Dashboard:
    return (
        base(
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
                "Collectors not ready",
                "Collectors whose /readyz answers 503 (state store, broker, or a consumer group"
                " that does not settle: the CollectorNotReady alert)." + see("metrics"),
                "none",
                query("count(outcomes_collector_ready == 0) or vector(0)", instant=True),
                thresholds=steps((None, "green"), (1.0, "red")),
            ).color_mode(BACKGROUND)
        )
        .with_panel(
            series_panel(
                "Partitions held",
                "Partitions of the events topic each collector holds; one holding none for"
                " three session timeouts is not ready." + see("metrics"),
                "none",
                query("sum by (instance) (outcomes_collector_partitions_held)", "{{instance}}"),
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
                thresholds=steps((None, "green"), (1.0, "red")),
            ).color_mode(BACKGROUND)
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
                "The collector versions running now (one row per instance), and each one's"
                " engine: compiled, or pure where the compiled build was not made (the Python"
                " source: about 1.3x the CPU per event).",
                query(
                    "outcomes_collector_build_info * on(job, instance) group_left(engine)"
                    " outcomes_collector_engine_info"
                    " or on(job, instance) outcomes_collector_build_info",
                    instant=True,
                ),
                width=24,
            )
        )
    )
