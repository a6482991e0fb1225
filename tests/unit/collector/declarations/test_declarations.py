from __future__ import annotations

import os
import textwrap
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from collector.declarations.loader import load_file
from collector.declarations.registry import DeclarationRegistry
from collector.engine.periods import PeriodKind
from collector.engine.rates import HourlyRates, day_of

GOOD = """\
apiVersion: outcomes/v1
kind: Project
metadata:
  name: ticket-triage
  labels: {team: itsm}
spec:
  owner: itsm-sre
  sponsor: vp-infrastructure
  stage: pilot
  stageSince: 2026-03-01
  period: quarter
  hourlyRate: 85
  budget: 120000
  services: [servicedesk-api]
  objectives:
    uptime: 0.999
    savings: 20000
    timeSavedHours: 400
    roi: 0.5
    successRate: 0.95
  guards: {minRuns: 10, minObservedHours: 2, minElapsed: 0.2}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def test_the_design_example_becomes_a_profile(tmp_path: Path) -> None:
    write(tmp_path, "itsm.yaml", GOOD)
    catalog = DeclarationRegistry(tmp_path).reload().catalog
    profile = catalog.profile("ticket-triage")
    assert profile.period_kind is PeriodKind.QUARTER
    assert profile.hourly_rates == HourlyRates.flat(Fraction(85))
    assert profile.services == frozenset({"servicedesk-api"})
    assert profile.objectives.time_saved_s == 400 * 3600
    assert profile.objectives.uptime == Fraction(999, 1000)
    assert profile.guards.min_observed_s == 7200
    assert profile.guards.min_elapsed == Fraction(1, 5)
    assert (profile.team, profile.owner, profile.sponsor, profile.stage) == (
        "itsm", "itsm-sre", "vp-infrastructure", "pilot",
    )  # fmt: skip
    assert profile.stage_since_s == 1772323200.0
    assert profile.budget == 120000
    assert list(catalog.declared_projects()) == ["ticket-triage"]
    assert catalog.profile("someone-else").declared is False


def test_defaults_and_multiple_documents(tmp_path: Path) -> None:
    minimal = "apiVersion: outcomes/v1\nkind: Project\nmetadata: {name: a}\nspec: {owner: o}\n"
    write(tmp_path, "two.yml", minimal + "---\n" + minimal.replace("name: a", "name: b"))
    catalog = DeclarationRegistry(tmp_path, Fraction(70)).reload().catalog
    profile = catalog.profile("b")
    assert profile.period_kind is PeriodKind.MONTH
    assert profile.hourly_rates == HourlyRates.flat(Fraction(70))
    assert profile.services is None
    assert profile.objectives.is_empty()
    assert profile.guards.min_runs == 20
    assert profile.guards.min_observed_s == 3600
    assert profile.guards.min_elapsed == Fraction(1, 10)
    assert sorted(catalog.declared_projects()) == ["a", "b"]


def test_a_dated_rate_list_in_any_order(tmp_path: Path) -> None:
    rates = "[{since: 2026-07-01, value: 95}, {since: 2026-01-01, value: 85.5}]"
    write(tmp_path, "itsm.yaml", GOOD.replace("hourlyRate: 85", f"hourlyRate: {rates}"))
    profile = DeclarationRegistry(tmp_path).reload().catalog.profile("ticket-triage")
    assert profile.hourly_rates.changes == (
        (day_of(date(2026, 1, 1)), Fraction(171, 2)),
        (day_of(date(2026, 7, 1)), Fraction(95)),
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("uptime: 0.999", "uptime: 1.5"), "itsm.yaml:16: spec.objectives.uptime: Input should be less than or equal to 1"),
        (("roi: 0.5", "roi: -1"), "itsm.yaml:19: spec.objectives.roi: Input should be greater than or equal to 0"),
        (("  owner: itsm-sre\n", "  owner: [a, b]\n"), "itsm.yaml:7: spec.owner: Input should be a valid string"),
        (("period: quarter", "period: fortnight"), "itsm.yaml:11: spec.period: Input should be 'month' or 'quarter'"),
        (("stage: pilot", "stage: pilot\n  colour: blue"), "itsm.yaml:10: spec.colour: Extra inputs are not permitted"),
        (("name: ticket-triage", "name: Ticket Triage"), "itsm.yaml:4: metadata.name: String should match pattern"),
        (("services: [servicedesk-api]", "services: [ok, NOT-OK]"), "itsm.yaml:14: spec.services.1: String should match pattern"),
        (("stageSince: 2026-03-01", "stageSince: someday"), "itsm.yaml:10: spec.stageSince: Input should be a valid date"),
        (("kind: Project", "kind: Projekt"), "itsm.yaml:2: kind: Input should be 'Project'"),
        (("labels: {team: itsm}", "labels: {team: itsm"), "itsm.yaml:6: YAML:"),
        (("hourlyRate: 85", "hourlyRate: [{since: 2026-01-01, value: 85}, {since: 2026-01-01, value: 90}]"),
         "itsm.yaml:12: spec.hourlyRate: more than one rate since 2026-01-01"),
        (("hourlyRate: 85", "hourlyRate: [{since: 2026-07-01T10:00:00Z, value: 85}]"),
         "itsm.yaml:12: spec.hourlyRate.0.since: Datetimes provided to dates should have zero time"),
        (("hourlyRate: 85", "hourlyRate: []"), "itsm.yaml:12: spec.hourlyRate: "),
    ],
)  # fmt: skip
def test_errors_name_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = write(tmp_path, "itsm.yaml", GOOD.replace(*change))
    found, errors = load_file(path)
    assert found == []
    assert any(str(error).startswith(f"{tmp_path}/{expected}") for error in errors), errors


def test_duplicate_project_is_refused_with_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD)
    result = DeclarationRegistry(tmp_path).reload()
    assert [str(e) for e in result.errors] == [
        f"{tmp_path}/b.yaml:1: metadata.name: project 'ticket-triage' is already declared at"
        f" {tmp_path}/a.yaml:1"
    ]
    assert list(result.catalog.declared_projects()) == ["ticket-triage"]


def test_hot_reload_keeps_the_last_good_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    never = write(tmp_path, "never.yaml", GOOD.replace("ticket-triage", "other").replace(
        "savings: 20000", "savings: lots"))  # fmt: skip
    path = write(tmp_path, "itsm.yaml", GOOD)
    registry = DeclarationRegistry(tmp_path)
    first = registry.reload()
    assert (
        f"no valid version of this file was ever loaded: its projects are not declared): {never}"
        in caplog.text
    )
    never.unlink()
    first = registry.reload()
    assert first.changed
    assert not registry.reload().changed  # nothing changed on disk

    path.write_text(GOOD.replace("savings: 20000", "savings: lots"))
    caplog.clear()
    broken = registry.reload()
    assert f"(its last good version stays in force): {path}:17" in caplog.text
    assert not broken.changed
    assert broken.catalog is first.catalog
    assert broken.catalog.profile("ticket-triage").objectives.savings == 20000
    assert [str(e).split(": ", 1)[0] for e in broken.errors] == [f"{path}:17"]
    assert registry.file_states() == [(str(path), False)]

    path.write_text(GOOD.replace("savings: 20000", "savings: 30000"))
    fixed = registry.reload()
    assert fixed.changed
    assert fixed.errors == ()
    assert fixed.catalog.profile("ticket-triage").objectives.savings == 30000
    assert fixed.catalog.version > first.catalog.version
    assert registry.reloads == {"success": 2, "failure": 2}

    os.remove(path)
    gone = registry.reload()
    assert gone.changed
    assert list(gone.catalog.declared_projects()) == []


def test_a_missing_directory_declares_nothing(tmp_path: Path) -> None:
    result = DeclarationRegistry(tmp_path / "nope").reload()
    assert list(result.catalog.declared_projects()) == []
