"""`outcomes report` over a real SQLite state: current period, closed and restated ones."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from collector.config import Settings
from collector.declarations.registry import DeclarationRegistry
from collector.engine.engine import Engine
from collector.engine.settings import EngineSettings
from collector.pipeline import Pipeline
from collector.state.sqlite import SqliteStore
from outcomes.cli import main
from outcomes.report import ReportError, build_report, collect_rows
from outcomes.report.data import render_csv, render_json
from outcomes.report.html import render_html
from outcomes.report.markdown import render_markdown
from outcomes.report.text import render_table
from schemas.binding import to_binary
from schemas.envelope import OutcomeEvent
from schemas.events import EventType
from tests.support.doubles import MemoryDeadLetters, MemorySource
from tests.support.engines import FixedClock
from tests.support.events import make_event

DECLARATION = """\
apiVersion: outcomes/v1
kind: Project
metadata: {name: ticket-triage, labels: {team: itsm}}
spec:
  owner: itsm-sre
  hourlyRate: 60
  objectives: {savings: 1000, timeSavedHours: 10}
  guards: {minElapsed: 0}
"""


def ingest(tmp_path: Path, clock: FixedClock, events: list[OutcomeEvent]) -> None:
    catalog = DeclarationRegistry(tmp_path / "projects").reload().catalog
    store = SqliteStore(tmp_path / "state.db")
    engine = Engine(EngineSettings(), clock, catalog)
    pipeline = Pipeline(engine, store, MemoryDeadLetters(), publish=lambda s: None)
    pipeline.assign("events", [0])
    source = MemorySource()
    source.add([to_binary(e) for e in events])
    pipeline.process(source.poll(0))
    store.close()


@pytest.fixture
def setup(tmp_path: Path) -> Settings:
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "itsm.yaml").write_text(DECLARATION)
    return Settings(state=str(tmp_path / "state.db"), targets=tmp_path / "projects")


def test_closed_period_is_restated_by_a_late_event(setup: Settings, tmp_path: Path) -> None:
    october = datetime(2026, 10, 20, tzinfo=UTC)
    clock = FixedClock(datetime(2026, 10, 31, 12, tzinfo=UTC))
    ingest(tmp_path, clock, [make_event(EventType.SAVINGS_REALIZED, time=october, amount=400.0)])
    before = collect_rows(setup, "2026-10", clock)
    assert before[0]["savings"] == 400.0
    assert (before[0]["closed"], before[0]["restated"]) == (False, False)

    clock.now = datetime(2026, 11, 3, tzinfo=UTC)  # October closed, within the 7-day grace
    ingest(tmp_path, clock, [make_event(EventType.SAVINGS_REALIZED, time=october, amount=700.0)])
    (row,) = collect_rows(setup, "2026-10", clock)
    assert (row["closed"], row["restated"], row["savings"]) == (True, True, 1100.0)
    savings = next(t for t in row["targets"] if t["target"] == "savings")
    assert savings == {
        "target": "savings", "unit": "USD", "objective": 1000.0, "projected": 1100.0,
        "attainment": 1.1, "status": "met",
    }  # fmt: skip
    (current,) = collect_rows(setup, None, clock)
    assert (current["period"], current["savings"], current["status"]) == (
        "2026-11",
        0.0,
        "off_target",
    )


def test_report_equals_the_engine_snapshot(setup: Settings, tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 11, 16, tzinfo=UTC))
    events = [
        make_event(time=datetime(2026, 11, d, tzinfo=UTC), manual_duration_s=3600.0)
        for d in range(1, 11)
    ]
    events.append(
        make_event(EventType.COST_INCURRED, time=datetime(2026, 11, 2, tzinfo=UTC), project="other")
    )
    ingest(tmp_path, clock, events)
    rows = {row["project"]: row for row in collect_rows(setup, None, clock)}
    assert set(rows) == {"ticket-triage", "other"}
    triage = rows["ticket-triage"]
    assert triage["time_saved_s"] == 36000.0
    assert triage["value"] == 600.0  # 10 h at 60/h
    assert triage["team"] == "itsm"
    time_saved = next(t for t in triage["targets"] if t["target"] == "time_saved")
    assert time_saved["projected"] == 36000.0 / (15 / 30)
    assert rows["other"]["status"] == "unscoped"
    report = build_report(setup, None, clock)
    parsed = json.loads(render_json(report))
    # worst status first: ticket-triage is off target half-way through the month
    assert [row["project"] for row in parsed["projects"]] == ["ticket-triage", "other"]
    assert parsed["currency"] == "USD" and parsed["declarations"] == str(setup.targets)
    lines = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert [(line["project"], line["target"], line["unit"]) for line in lines] == [
        ("ticket-triage", "savings", "USD"), ("ticket-triage", "time_saved", "seconds"),
        ("other", "", ""),
    ]  # fmt: skip


def test_missing_state_and_bad_period_are_clear_errors(
    setup: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ReportError, match="no state store at"):
        collect_rows(setup, None, FixedClock())
    assert main(["report", "--state", str(tmp_path / "state.db"), "--period", "2026-13"]) == 2
    assert "no state store" in capsys.readouterr().err
    ingest(tmp_path, FixedClock(), [make_event()])
    assert main(["report", "--state", str(tmp_path / "state.db"), "--period", "2026-13"]) == 2
    assert "2026-10 or 2026-Q3" in capsys.readouterr().err
    assert main(["report", "--state", str(tmp_path / "state.db"), "--period", "last:0"]) == 2
    assert "last:N needs N from 1 to 36" in capsys.readouterr().err
    assert main(["report", "--state", str(tmp_path / "state.db"), "--format", "json"]) == 0
    # no declarations anywhere: said loudly, not silently unscoped
    assert "WARNING: no project declarations found" in capsys.readouterr().err


QUARTERLY = """\
apiVersion: outcomes/v1
kind: Project
metadata: {name: patching, labels: {team: infra}}
spec:
  owner: infra-sre
  period: quarter
  objectives: {savings: 3000}
  guards: {minElapsed: 0}
"""


def test_each_project_is_judged_on_its_own_period_kind(setup: Settings, tmp_path: Path) -> None:
    (tmp_path / "projects" / "patching.yaml").write_text(QUARTERLY)
    clock = FixedClock()
    for month in (8, 10, 11):  # each month's savings sent during that month
        clock.now = datetime(2026, month, 6, tzinfo=UTC)
        events = [
            make_event(EventType.SAVINGS_REALIZED, time=datetime(2026, month, 5, tzinfo=UTC),
                       project=project, amount=float(100 * month))
            for project in ("ticket-triage", "patching")
        ]  # fmt: skip
        ingest(tmp_path, clock, events)
    clock.now = datetime(2026, 11, 16, tzinfo=UTC)

    def periods(request: str | None) -> list[tuple[str, str, float]]:
        rows = collect_rows(setup, request, clock)
        return [(row["project"], row["period"], row["savings"]) for row in rows]

    assert periods(None) == [("patching", "2026-Q4", 2100.0), ("ticket-triage", "2026-11", 1100.0)]
    # a quarter asked: the monthly project shows its months of it that have begun
    assert periods("2026-Q4") == [
        ("patching", "2026-Q4", 2100.0), ("ticket-triage", "2026-10", 1000.0),
        ("ticket-triage", "2026-11", 1100.0),
    ]  # fmt: skip
    assert periods("2026-08") == [
        ("patching", "2026-Q3", 800.0),
        ("ticket-triage", "2026-08", 800.0),
    ]
    assert periods("last:3") == [
        ("patching", "2026-Q2", 0.0), ("patching", "2026-Q3", 800.0),
        ("patching", "2026-Q4", 2100.0), ("ticket-triage", "2026-09", 0.0),
        ("ticket-triage", "2026-10", 1000.0), ("ticket-triage", "2026-11", 1100.0),
    ]  # fmt: skip
    report = build_report(setup, "last:3", clock)
    # the portfolio counts each project once, in its latest period
    assert report.portfolio["projects"] == 2
    # patching: 2100 by mid-quarter projects 4200 ≥ 3000; ticket-triage saved no time
    assert (report.portfolio["statuses"]["met"], report.portfolio["statuses"]["off_target"]) == (
        1,
        1,
    )
    assert report.portfolio["meeting_objectives"] == 0.5
    markdown = render_markdown(report)
    assert "| Project | Period | Target | Objective | Projected | Attainment | Status |" in markdown
    assert "| patching | 2026-Q4 | savings | 3,000.00 USD |" in markdown
    assert "Currency USD" in markdown


def test_ai_cost_per_project_and_unpriced_calls(setup: Settings, tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    moment = datetime(2026, 11, 20, 11, tzinfo=UTC)
    calls = [
        make_event(EventType.AI_USAGE, time=moment, cost=0.25),
        make_event(EventType.AI_USAGE, time=moment, cost=0.0000165),
        make_event(EventType.AI_USAGE, time=moment, provider="vllm", model="in-house-7b"),
        make_event(time=moment, cost=0.5),
    ]
    ingest(tmp_path, clock, calls)
    (row,) = collect_rows(setup, "2026-11", clock)
    assert row["ai_cost"] == pytest.approx(0.2500165, abs=1e-12)
    assert (row["ai_calls"], row["ai_unpriced_calls"]) == (3, 1)
    assert row["cost"] == pytest.approx(0.7500165, abs=1e-12)
    assert row["cost_per_success"] == pytest.approx(0.7500165, abs=1e-12)
    markdown = render_markdown(build_report(setup, "2026-11", clock))
    assert "| AI cost (USD) |" in markdown
    assert "| 0.25 + 1 unpriced |" in markdown


def test_markdown_and_html_list_the_incidents_the_table_and_json_list(
    setup: Settings, tmp_path: Path
) -> None:
    clock = FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    opened = datetime(2026, 11, 20, 9, tzinfo=UTC)
    common = {"service": "servicedesk-api", "incident": "INC0012345"}
    ingest(
        tmp_path,
        clock,
        [
            make_event(EventType.INCIDENT_OPENED, time=opened, **common),
            make_event(EventType.INCIDENT_RESOLVED, time=opened.replace(hour=10),
                       started_at=None, resolved_by="person", **common),
        ],
    )  # fmt: skip
    report = build_report(setup, "2026-11", clock)
    (incident,) = report.rows[0]["incidents"]
    assert incident["downtime_in_period_s"] == 3600
    markdown = render_markdown(report)
    assert "## Incidents" in markdown
    assert "| servicedesk-api | INC0012345 |" in markdown and "| 1h00m00s | person |" in markdown
    html = render_html(report)
    assert '<table id="incidents">' in html and "INC0012345" in html
    assert 'data-field="downtime_in_period_s" data-value="3600.0"' in html


def test_the_terminal_report_reads_at_80_columns_and_is_whole_when_wide(
    setup: Settings, tmp_path: Path
) -> None:
    clock = FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    ingest(tmp_path, clock, [make_event(time=datetime(2026, 11, 20, 9, tzinfo=UTC))])
    report = build_report(setup, "2026-11", clock)
    narrow = io.StringIO()
    render_table(report, Console(file=narrow, width=80))
    lines = narrow.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "ticket-triage" in narrow.getvalue() and "…" not in narrow.getvalue()
    full = io.StringIO()
    render_table(report, Console(file=full, width=160))
    assert "AI cost USD" in full.getvalue() and "team" in full.getvalue()


def test_portfolio_totals_never_add_a_month_to_a_quarter(setup: Settings, tmp_path: Path) -> None:
    (tmp_path / "projects" / "finops.yaml").write_text(
        "apiVersion: outcomes/v1\nkind: Project\nmetadata: {name: cost-optimizer}\n"
        "spec: {owner: finops, period: quarter}\n"
    )
    clock = FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    moment = datetime(2026, 11, 20, 9, tzinfo=UTC)
    ingest(
        tmp_path,
        clock,
        [
            make_event(EventType.SAVINGS_REALIZED, time=moment, amount=100.0),
            make_event(EventType.SAVINGS_REALIZED, time=moment.replace(month=10), amount=300.0,
                       project="cost-optimizer"),
        ],
    )  # fmt: skip
    portfolio = build_report(setup, None, clock).portfolio
    assert "value" not in portfolio
    assert portfolio["by_kind"]["month"]["value"] == 100.0
    assert portfolio["by_kind"]["month"]["periods"] == ["2026-11"]
    assert portfolio["by_kind"]["quarter"]["value"] == 300.0
    assert portfolio["by_kind"]["quarter"]["periods"] == ["2026-Q4"]


def test_roi_reads_as_a_percentage_and_a_near_zero_cost_is_said() -> None:
    from outcomes.report.words import roi_text

    assert roi_text(1.853) == "185.3%"
    assert roi_text(-0.11) == "-11.0%"
    assert roi_text(831.26) == "> 10,000% (cost ≈ 0)"
    assert roi_text(None) == "—"


def test_periods_before_a_project_existed_are_not_observed(setup: Settings, tmp_path: Path) -> None:
    """Declared and first reporting in November: September and October are not judged,
    not charted, and say so."""
    clock = FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    ingest(tmp_path, clock, [make_event(time=datetime(2026, 11, 19, tzinfo=UTC))])
    report = build_report(setup, "last:3", clock)
    statuses = {row["period"]: (row["status"], row["targets"]) for row in report.rows}
    assert statuses["2026-09"] == ("not_observed", [])
    assert statuses["2026-10"] == ("not_observed", [])
    assert statuses["2026-11"][0] == "off_target" and statuses["2026-11"][1]
    assert "| 2026-10 | not observed |" in render_markdown(report)
    html = render_html(report)
    assert html.count("<svg") >= 1 and "2026-09</text>" not in html


def test_the_report_says_what_reviews_did_to_time_saved(setup: Settings, tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    moment = datetime(2026, 11, 20, 11, tzinfo=UTC)
    review = EventType.REVIEW_RECORDED
    ingest(
        tmp_path,
        clock,
        [
            make_event(time=moment, event_id="r1", manual_duration_s=1800.0),
            make_event(time=moment, event_id="r2", manual_duration_s=600.0),
            make_event(review, time=moment, subject="r1", verdict="rejected", human_effort_s=360.0),
            make_event(review, time=moment, subject="r2", verdict="accepted"),
            make_event(review, time=moment, subject="ghost", verdict="accepted"),
        ],
    )  # fmt: skip
    report = build_report(setup, "2026-11", clock)
    (row,) = report.rows
    assert row["time_saved_s"] == 600 - 360
    assert (row["forfeited_s"], row["reviews_pending"]) == (1800, 1)
    assert (row["acceptance_ratio"], row["review_coverage"]) == (0.5, 1.0)
    said = (
        "1 of 2 reviewed runs rejected or escalated: 0.5 h of time saved forfeited;"
        " 0.1 h spent reviewing; 1 review waiting for their run"
    )
    markdown = render_markdown(report)
    assert "## Human review" in markdown and said in markdown
    html = render_html(report)
    assert '<table id="reviews">' in html and said in html
    assert 'data-field="forfeited_s" data-value="1800.0"' in html
    lines = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert lines[0]["reviewed_runs"] == "2"
    terminal = io.StringIO()
    render_table(report, Console(file=terminal, width=160))
    assert "Human review" in terminal.getvalue() and "0.5 h of time saved forfeited" in (
        terminal.getvalue()
    )


def test_uptime_without_any_incident_says_so(setup: Settings, tmp_path: Path) -> None:
    (tmp_path / "projects" / "desk.yaml").write_text(
        "apiVersion: outcomes/v1\nkind: Project\nmetadata: {name: desk}\nspec:\n"
        "  owner: o\n  stageSince: 2026-10-01\n  services: [api]\n  uptimeFrom: incidents\n"
    )
    clock = FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    ingest(tmp_path, clock, [make_event(time=datetime(2026, 11, 20, 9, tzinfo=UTC))])
    report = build_report(setup, "2026-11", clock)
    desk = next(row for row in report.rows if row["project"] == "desk")
    assert desk["uptime"] == 1.0 and desk["uptime_basis"] == "incidents"
    assert "| 100.000% (no incidents reported) |" in render_markdown(report)
    assert "(no incidents reported)" in render_html(report)


def test_every_format_says_which_cloud_bill_each_periods_cost_rests_on(
    setup: Settings, tmp_path: Path
) -> None:
    clock = FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    issued = datetime(2026, 11, 20, 6, tzinfo=UTC)
    bill = "AWS/123456789012/2026-10-01"
    lines = [
        {"day": "2026-10-31", "category": "compute", "amount": "40.25"},
        {"day": "2026-11-01", "category": "compute", "amount": "2.5"},  # a late charge
    ]
    statement = make_event(EventType.COST_STATEMENT, time=issued, statement=bill,
                           version="9f2c4e1a7b3d5f6012", issued_at=issued.isoformat(),
                           lines=lines)  # fmt: skip
    ingest(tmp_path, clock, [statement])
    report = build_report(setup, "last:2", clock)
    shares = {row["period"]: row["statements"] for row in report.rows}
    assert [s["cost_in_period"] for s in shares["2026-10"]] == [40.25]
    assert [s["cost_in_period"] for s in shares["2026-11"]] == [2.5]
    assert shares["2026-10"][0] | {"cost_in_period": 0} == {
        "statement": bill,
        "version": "9f2c4e1a7b3d5f6012",
        "imported": "2026-11-20T06:00:00Z",
        "cost_in_period": 0,
    }
    assert {row["period"]: row["cost"] for row in report.rows} == {"2026-10": 40.25, "2026-11": 2.5}
    markdown = render_markdown(report)
    assert "## Cloud bills" in markdown and f"| {bill} | `9f2c4e1a7b3d` |" in markdown
    html = render_html(report)
    assert '<table id="statements">' in html and 'data-value="40.25"' in html
    assert "9f2c4e1a7b3d" in render_csv(report)
    for width in (80, 160):
        out = io.StringIO()
        render_table(report, Console(file=out, width=width))
        text = out.getvalue()
        assert "Cloud bills" in text and "9f2c4e1a7b3d" in text
        assert max(len(line) for line in text.splitlines()) <= width


def test_value_is_measured_plus_estimated_in_every_format(setup: Settings, tmp_path: Path) -> None:
    """A saving read off an invoice is measured; an estimated one and time saved (valued at
    the declared 60/h) are estimated: every format splits the value so, and says what the
    estimate rests on. Read back from the stored state."""
    clock = FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    day = datetime(2026, 11, 10, tzinfo=UTC)
    ingest(tmp_path, clock, [
        make_event(EventType.SAVINGS_REALIZED, time=day, amount=300.0, evidence="measured"),
        make_event(EventType.SAVINGS_REALIZED, time=day, amount=200.0),
        make_event(EventType.RUN_FINISHED, time=day, manual_duration_s=3600.0,
                   human_effort_s=0.0),
    ])  # fmt: skip
    report = build_report(setup, "2026-11", clock)
    (row,) = report.rows
    assert (row["value"], row["measured_value"], row["estimated_value"]) == (560.0, 300.0, 260.0)
    monthly = report.portfolio["by_kind"]["month"]
    assert (monthly["measured_value"], monthly["estimated_value"]) == (300.0, 260.0)
    said = (
        "1.0 h saved at 60 USD/h; manual time per succeeded run: classify 1h00m00s (1 run);"
        " 200.00 USD of savings estimated by their senders"
    )
    markdown = render_markdown(report)
    # no sponsor, and as a pilot no stageSince nor decision; the events are 10 days old
    assert row["ready"] is False and report.portfolio["ready_ratio"] == 0.0
    assert "| ticket-triage | no sponsor declared; " in markdown
    assert "no savings, no runs reported in 7 days; a pilot without stageSince" in markdown
    assert "0 of 1 projects ready to be judged" in markdown
    assert "## Value: measured + estimated" in markdown
    assert f"| 560.00 | 300.00 | 260.00 | {said} |" in markdown
    html = render_html(report)
    assert (
        '<table id="evidence">' in html and 'data-field="measured_value" data-value="300.0"' in html
    )
    assert 'data-portfolio="by_kind.month.estimated_value" data-value="260.0"' in html
    assert json.loads(render_json(report))["projects"][0]["estimated_value"] == 260.0
    assert "measured_value" in render_csv(report).splitlines()[0]
    for width in (80, 160):
        out = io.StringIO()
        render_table(report, Console(file=out, width=width))
        text = out.getvalue()
        assert "Value: measured + estimated" in text and "300.00" in text
        assert max(len(line) for line in text.splitlines()) <= width


def test_the_estimate_names_the_baseline_of_each_automation(
    setup: Settings, tmp_path: Path
) -> None:
    """Time saved rests on the manual time each automation's succeeded runs report: the
    report names it per automation (the three that saved most in words, all in JSON and
    CSV), a quarter's from its months; failed runs have none."""
    (tmp_path / "projects" / "patching.yaml").write_text(QUARTERLY)
    clock = FixedClock(datetime(2026, 12, 20, 12, tzinfo=UTC))
    runs = [
        ("deploy", 1800.0, 11, 3),
        ("deploy", 1800.0, 11, 1),
        ("triage", 240.0, 12, 2),
        ("rotate", 60.0, 12, 1),
        ("backup", 90.0, 12, 1),
        ("triage", 0.0, 12, 1),
    ]
    events = [
        make_event(EventType.RUN_FINISHED, time=datetime(2026, month, 2 + i, tzinfo=UTC),
                   project=project, automation=automation, manual_duration_s=manual,
                   human_effort_s=0.0)
        for automation, manual, month, n in runs for i in range(n)
        for project in ("ticket-triage", "patching")
    ]  # fmt: skip
    failed = make_event(EventType.RUN_FINISHED, time=datetime(2026, 12, 9, tzinfo=UTC),
                        automation="deploy", outcome="failed", manual_duration_s=1800.0)  # fmt: skip
    ingest(tmp_path, clock, [*events, failed])
    report = build_report(setup, "2026-12", clock)
    monthly = next(row for row in report.rows if row["project"] == "ticket-triage")
    assert monthly["baselines"] == [
        {"automation": "backup", "succeeded_runs": 1, "manual_s": 90.0, "manual_s_per_run": 90.0},
        {"automation": "rotate", "succeeded_runs": 1, "manual_s": 60.0, "manual_s_per_run": 60.0},
        {"automation": "triage", "succeeded_runs": 3, "manual_s": 480.0,
         "manual_s_per_run": 160.0},
    ]  # fmt: skip
    quarterly = next(row for row in report.rows if row["project"] == "patching")
    assert quarterly["period"] == "2026-Q4" and len(quarterly["baselines"]) == 4
    words = "deploy 30m00s (4 runs), triage 2m40s (3 runs), backup 1m30s (1 run) and 1 more"
    assert f"manual time per succeeded run: {words}" in render_markdown(report)
    (line,) = [
        line
        for line in csv.DictReader(io.StringIO(render_csv(report)))
        if line["project"] == "patching"
    ]
    assert line["baselines"].endswith("backup 1m30s (1 run), rotate 1m00s (1 run)")


def test_each_decision_is_listed_with_the_figures_as_of_its_date(
    setup: Settings, tmp_path: Path
) -> None:
    decisions = """\
apiVersion: outcomes/v1
kind: Decision
metadata: {name: triage-oct}
spec: {project: ticket-triage, date: 2026-10-31, decision: extend, owner: head-of-itsm,
       rationale: savings at 40% of the objective, reviewBy: 2026-11-30}
---
apiVersion: outcomes/v1
kind: Decision
metadata: {name: triage-nov}
spec: {project: ticket-triage, date: 2026-11-15, decision: scale, owner: cio,
       rationale: savings objective met}
"""
    (tmp_path / "projects" / "decisions.yaml").write_text(decisions)
    clock = FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    in_october = FixedClock(datetime(2026, 10, 20, tzinfo=UTC))  # within October's grace
    ingest(
        tmp_path,
        in_october,
        [
            make_event(
                EventType.SAVINGS_REALIZED, time=datetime(2026, 10, 5, tzinfo=UTC), amount=400.0
            )
        ],
    )
    ingest(
        tmp_path,
        clock,
        [
            make_event(
                EventType.SAVINGS_REALIZED, time=datetime(2026, 11, 5, tzinfo=UTC), amount=1100.0
            )
        ],
    )
    report = build_report(setup, None, clock)
    october, november = report.decisions
    assert (october["decision"], october["in_force"], october["review_by"]) == (
        "extend",
        False,
        "2026-11-30",
    )
    assert (october["figures"]["period"], october["figures"]["value"]) == ("2026-10", 400.0)
    assert (november["decision"], november["in_force"]) == ("scale", True)
    assert (november["figures"]["period"], november["figures"]["value"]) == ("2026-11", 1100.0)
    savings = next(t for t in november["figures"]["targets"] if t["target"] == "savings")
    assert savings["objective"] == 1000.0
    markdown = render_markdown(report)
    assert "## Decisions" in markdown
    assert "| ticket-triage | 2026-11-15 | scale * | cio | — | 2026-11: " in markdown
    assert "| savings at 40% of the objective |" in markdown
    assert '<table id="decisions">' in render_html(report)
    assert json.loads(render_json(report))["decisions"][1]["owner"] == "cio"
    for width in (80, 160):
        out = io.StringIO()
        render_table(report, Console(file=out, width=width))
        text = out.getvalue()
        assert "Decisions" in text and "extend" in text
        assert max(len(line) for line in text.splitlines()) <= width
