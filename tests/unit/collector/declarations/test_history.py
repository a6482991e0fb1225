"""Declaration history: each distinct accepted version of a project's declaration is a
revision, stored, never rewritten, shown on /metrics, by `outcomes targets history` and in
the report, which flags an objective lowered during a period."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.config import Settings
from collector.declarations.registry import DeclarationRegistry
from collector.engine.engine import Engine
from collector.state.sqlite import SqliteStore
from outcomes.cli import main
from outcomes.report import build_report
from outcomes.report.data import render_csv
from outcomes.report.markdown import render_markdown
from tests.support.engines import FixedClock, feed, new_engine
from tests.support.events import make_event
from tests.unit.collector.declarations.test_declarations import GOOD, write
from tests.unit.collector.test_engine import project

NOV_2 = datetime(2026, 11, 2, 9, tzinfo=UTC)
NOV_12 = datetime(2026, 11, 12, 9, 30, tzinfo=UTC)
LOWER = ("savings: 20000", "savings: 15000")


def run_collector(directory: Path, state: Path, now: datetime) -> Engine:
    """A collector's engine over `directory`'s declarations at `now`, its state in `state`:
    it restores what is stored, takes a snapshot (which records the declarations in force)
    and stores what changed, as the pipeline does."""
    store = SqliteStore(state)
    catalog = DeclarationRegistry(directory).reload().catalog
    engine = Engine(new_engine().settings, FixedClock(now), catalog)
    engine.restore(store.load_all())
    feed(engine, [make_event(time=now, event_id=f"run-{now:%d}")])
    engine.snapshot()
    store.commit(engine.take_changes(), {}, {})
    store.commit(engine.take_declared(), {}, {})
    store.close()
    return engine


def test_each_distinct_version_is_a_revision_with_its_changed_fields(tmp_path: Path) -> None:
    projects, state = tmp_path / "projects", tmp_path / "state.db"
    projects.mkdir()
    write(projects, "itsm.yaml", GOOD)
    first = run_collector(projects, state, NOV_2)
    assert (project(first).revision, project(first).revised_s) == (1, NOV_2.timestamp())
    again = run_collector(projects, state, NOV_12)  # a restart, nothing changed
    assert project(again).revision == 1
    write(projects, "itsm.yaml", GOOD.replace(*LOWER).replace("owner: itsm-sre", "owner: sre"))
    lowered = run_collector(projects, state, NOV_12)
    assert (project(lowered).revision, project(lowered).revised_s) == (2, NOV_12.timestamp())
    (_, second) = lowered.revisions("ticket-triage")
    assert second.changes == [
        ["spec.objectives.savings", 20000.0, 15000.0],
        ["spec.owner", "itsm-sre", "sre"],
    ]
    write(projects, "itsm.yaml", GOOD)  # back to the first text: a new revision, in time
    back = run_collector(projects, state, datetime(2026, 11, 20, tzinfo=UTC))
    assert [r.revision for r in back.revisions("ticket-triage")] == [1, 2, 3]
    stored = SqliteStore(state).load_all(seen=False).revisions
    assert [(r.revision, r.digest) for r in stored] == [
        (r.revision, r.digest) for r in back.revisions("ticket-triage")
    ]
    assert stored[0].digest == stored[2].digest != stored[1].digest


def test_history_command_and_report_flag_a_lowered_objective(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    projects, state = tmp_path / "projects", tmp_path / "state.db"
    projects.mkdir()
    write(projects, "itsm.yaml", GOOD.replace("period: quarter", "period: month"))
    run_collector(projects, state, NOV_2)
    write(projects, "itsm.yaml", GOOD.replace("period: quarter", "period: month").replace(*LOWER))
    run_collector(projects, state, NOV_12)

    assert main(["targets", "history", "ticket-triage", "--state", str(state)]) == 0
    out = capsys.readouterr().out
    assert "ticket-triage: 2 revisions" in out
    assert "revision 2  2026-11-12T09:30:00Z" in out
    assert "  spec.objectives.savings: 20000.0 -> 15000.0" in out
    assert main(["targets", "history", "ticket-triage", "--state", str(state),
                 "--format", "json"]) == 0  # fmt: skip
    revisions = json.loads(capsys.readouterr().out)
    assert [r["revision"] for r in revisions] == [1, 2]
    assert revisions[1]["changes"] == [
        {"field": "spec.objectives.savings", "old": 20000.0, "new": 15000.0}
    ]
    assert main(["targets", "history", "nobody", "--state", str(state)]) == 1
    assert "no declaration of nobody" in capsys.readouterr().err

    settings = Settings(state=str(state), targets=projects)
    clock = FixedClock(datetime(2026, 12, 3, tzinfo=UTC))
    report = build_report(settings, "last:2", clock)
    rows = {row["period"]: row for row in report.rows}
    november, december = rows["2026-11"], rows["2026-12"]
    assert [r["revision"] for r in november["revisions"]] == [1, 2]
    assert november["objective_changes"] == [
        "savings lowered 20000.0 -> 15000.0 (revision 2, 2026-11-12)"
    ]
    assert [r["revision"] for r in december["revisions"]] == [2]
    assert december["objective_changes"] == []
    markdown = render_markdown(report)
    assert "ticket-triage (objective lowered during the period)" in markdown
    assert "## Declaration changes" in markdown
    assert "savings lowered 20000.0 -> 15000.0 (revision 2, 2026-11-12)" in markdown
    assert "objective_changes" in render_csv(report).splitlines()[0]
