"""`kind: Decision` documents: validated like every declaration (file:line:field), the latest
decision of each declared project in force, its review date the end of the `reviewBy` day."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.declarations.loader import load_file
from collector.declarations.registry import DeclarationRegistry
from collector.engine.engine import Engine
from tests.support.engines import FixedClock, feed, new_engine
from tests.support.events import make_event
from tests.unit.collector.declarations.test_declarations import GOOD, write
from tests.unit.collector.test_engine import project

DECISION = """\
apiVersion: outcomes/v1
kind: Decision
metadata: {name: triage-q3}
spec:
  project: ticket-triage
  date: 2026-09-30
  decision: extend
  owner: head-of-itsm
  rationale: time saved at 79% of the objective; one more quarter with the fix
  reviewBy: 2026-12-31
"""


def later(day: str, decision: str, review: str | None = None, name: str = "triage-q4") -> str:
    text = DECISION.replace("2026-09-30", day).replace("decision: extend", f"decision: {decision}")
    text = text.replace("name: triage-q3", f"name: {name}")
    if review is None:
        return text.replace("  reviewBy: 2026-12-31\n", "")
    return text.replace("reviewBy: 2026-12-31", f"reviewBy: {review}")


def test_the_latest_decision_is_in_force_with_its_review_date(tmp_path: Path) -> None:
    write(tmp_path, "itsm.yaml", GOOD)
    write(tmp_path, "decisions.yaml", DECISION + "---\n" + later("2026-08-01", "continue"))
    profile = DeclarationRegistry(tmp_path).reload().catalog.profile("ticket-triage")
    assert (profile.decision, profile.decision_owner) == ("extend", "head-of-itsm")
    assert profile.review_due_s == datetime(2027, 1, 1, tzinfo=UTC).timestamp()

    write(tmp_path, "later.yaml", later("2027-01-15", "scale", name="triage-2027"))  # no review due
    profile = DeclarationRegistry(tmp_path).reload().catalog.profile("ticket-triage")
    assert (profile.decision, profile.review_due_s) == ("scale", None)


def test_a_decision_about_an_undeclared_project_has_no_effect(tmp_path: Path) -> None:
    write(tmp_path, "decisions.yaml", DECISION)
    result = DeclarationRegistry(tmp_path).reload()
    assert result.errors == ()
    assert list(result.catalog.declared_projects()) == []
    assert result.catalog.profile("ticket-triage").decision is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("decision: extend", "decision: maybe"), "d.yaml:7: spec.decision: Input should be 'scale'"),
        (("  owner: head-of-itsm\n", ""), "d.yaml:4: spec.owner: Field required"),
        (("date: 2026-09-30", "date: soon"), "d.yaml:6: spec.date: Input should be a valid date"),
        (("reviewBy: 2026-12-31", "reviewBy: 2026-01-01"),
         "d.yaml:4: spec: reviewBy 2026-01-01 is before the decision's date 2026-09-30"),
        (("project: ticket-triage", "project: Ticket Triage"), "d.yaml:5: spec.project: String should match pattern"),
        (("rationale: time", "rationales: time"), "d.yaml:9: spec.rationales: Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_errors_name_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = write(tmp_path, "d.yaml", DECISION.replace(*change))
    found, errors = load_file(path)
    assert found == []
    assert any(str(error).startswith(f"{tmp_path}/{expected}") for error in errors), errors


def test_the_engine_shows_the_decision_in_force(tmp_path: Path) -> None:
    write(tmp_path, "itsm.yaml", GOOD)
    write(tmp_path, "decisions.yaml", DECISION)
    engine = Engine(
        new_engine().settings,
        FixedClock(datetime(2026, 12, 2, tzinfo=UTC)),
        DeclarationRegistry(tmp_path).reload().catalog,
    )
    feed(engine, [make_event(event_id="one")])
    info = project(engine).info
    assert (info.decision, info.decision_owner) == ("extend", "head-of-itsm")
    assert info.review_due_s == datetime(2027, 1, 1, tzinfo=UTC).timestamp()
