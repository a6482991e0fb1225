"""A hand-built snapshot exercising every metric family, for exporter tests."""

from __future__ import annotations

from schemas.snapshot import (
    ClosedPeriod,
    HealthSnapshot,
    Histogram,
    PeriodResult,
    Portfolio,
    ProjectCounters,
    ProjectInfo,
    ProjectSnapshot,
    Readiness,
    Snapshot,
    StatementSnapshot,
    TargetResult,
)


def sample_snapshot() -> Snapshot:
    triage = ProjectSnapshot(
        name="ticket-triage",
        counters=ProjectCounters(
            runs=(("classify", "failed", 2), ("classify", "succeeded", 8)),
            manual_time_avoided_s=7200.0,
            human_effort_s=1800.0,
            cost=(("ai", 0.0000495), ("licence", 100.0), ("run", 0.5)),
            credits=(("licence", 20.0),),
            savings=(("cloud", 250.0),),
            downtime_s=(("servicedesk-api", 36.0),),
            observed_s=(("servicedesk-api", 3600.0),),
            ai_tokens=(
                ("classify", "openai", "gpt-4o-mini", "input", 126),
                ("classify", "openai", "gpt-4o-mini", "output", 51),
                ("classify", "openai", "in-house-llm", "input", 900),
            ),
            ai_calls=(("openai", "gpt-4o-mini", 3), ("openai", "in-house-llm", 1)),
            ai_cost=(("openai", "gpt-4o-mini", "catalogue", 0.0000495),),
            ai_unpriced=(("openai", "in-house-llm", 1),),
        ),
        period=PeriodResult(
            key="2026-11",
            start_s=1793491200.0,
            end_s=1796083200.0,
            time_saved_s=5400.0,
            cost=100.5,
            savings=250.0,
            value=400.0,
            net_value=299.5,
            roi=2.98,
            uptime=0.99,
            success_ratio=0.8,
            intervention_ratio=0.25,
            runs=(("succeeded", 8), ("failed", 2), ("cancelled", 0)),
            observed_s=3600.0,
            services=(("servicedesk-api", 3600.0, 36.0),),
            ai_cost=0.0000495,
            ai_calls=4,
            ai_unpriced_calls=1,
            cost_per_success=12.5625,
            measured_value=150.0,
            baselines=(("classify", 8, 5400.0),),
        ),
        last_event_time_s=1794744000.0,
        last_received_s=1794744060.0,
        info=ProjectInfo(
            declared=True,
            team="itsm",
            owner="itsm-sre",
            sponsor="vp-infrastructure",
            stage="pilot",
            stage_since_s=1772323200.0,
            budget=120000.0,
            hourly_rate=85.0,
            decision="extend",
            decision_owner="head-of-itsm",
            review_due_s=1775001600.0,
        ),
        targets=(
            TargetResult("savings", 20000.0, 500.0, 0.025, "off_target"),
            TargetResult("roi", 0.5, 2.98, 5.96, "met"),
            TargetResult("uptime", 0.999, 0.99, 0.1, "insufficient_data"),
            TargetResult("success_rate", 0.95, None, None, "insufficient_data"),
        ),
        status="off_target",
        lifetime_value=400.0,
        lifetime_cost=100.5,
        incidents=(("servicedesk-api", 1, 3, 0),),
        incidents_open_since=(("servicedesk-api", 1794740400.0),),
        declared_since_s=1772323200.0,
        history=(
            ClosedPeriod("2026-09", "month", 310.0, 120.25, 28_800.0, 1.578, 0.9991, "met"),
            ClosedPeriod("2026-10", "month", 295.5, 130.0, 27_000.0, 1.273, None, "off_target"),
        ),
        statements=(
            StatementSnapshot(
                "AWS/123456789012/2026-10-01", "9f2c4e1a7b3d5f60", 1793577600.0, 61.5
            ),
        ),
        revision=2,
        revised_s=1793836800.0,
        readiness=(
            ("owner", True, ""),
            ("sponsor", True, ""),
            ("objectives", True, ""),
            ("baseline", True, ""),
            ("data", False, "no availability windows reported in 7 days"),
            ("scope", True, ""),
        ),
    )
    idle = ProjectSnapshot(
        name="idle-bot",
        counters=ProjectCounters(),
        period=PeriodResult(
            key="2026-11",
            start_s=1793491200.0,
            end_s=1796083200.0,
            time_saved_s=0.0,
            cost=0.0,
            savings=0.0,
            value=0.0,
            net_value=0.0,
            roi=None,
            uptime=None,
            success_ratio=None,
            intervention_ratio=None,
            runs=(("succeeded", 0), ("failed", 0), ("cancelled", 0)),
            observed_s=0.0,
        ),
        last_event_time_s=None,
    )
    health = HealthSnapshot(
        version="1.2.3",
        events=(("outcomes.run.finished", "accepted", 10), ("unknown", "rejected", 1)),
        rejected=(("malformed", 1),),
        consumer_lag=(("outcomes.events", 0, 5),),
        event_delay=Histogram((0.5, 1.0), (3, 9), 10, 7.25),
        label_overflow=(("automation", 4),),
        declaration_files=(("projects/itsm.yaml", True), ("projects/broken.yaml", False)),
        declaration_reloads=(("failure", 1), ("success", 3)),
        readiness=Readiness(ready=True, partitions_held=3, unheld_s=0.0),
    )
    portfolio = Portfolio(
        (("met", 0), ("at_risk", 0), ("off_target", 1), ("insufficient_data", 0), ("unscoped", 1)),
        0.0,
        0.0,
    )
    return Snapshot(1794744000.0, "USD", (idle, triage), health, portfolio)
