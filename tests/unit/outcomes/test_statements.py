"""An import's statements: each project's charges summed per day and category exactly and
rounded once, a version that depends on the sums only (not the order or the files the rows
came in), an empty statement for a project an earlier import mentioned, and nothing sent
from a file that breaks off."""

from __future__ import annotations

import gzip
import io
import random
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from bench.focus import write_bill
from outcomes.importers.focus.events import statement_events
from outcomes.importers.focus.files import FocusFileError
from outcomes.importers.focus.mapping import Charge
from outcomes.importers.focus.reading import Options
from outcomes.importers.focus.run import import_focus
from outcomes.importers.focus.statements import Statements
from schemas.events import CostStatement
from tests.support.events import NOW

BILL = "AWS/123456789012/2026-11-01"


def _charges(rng: random.Random, count: int) -> list[Charge]:
    return [
        Charge(
            BILL,
            rng.choice(["patch-rollout", "ticket-triage"]),
            date(2026, 11, rng.randint(1, 30)),
            rng.choice(["compute", "licence"]),
            Decimal(rng.randrange(-(10**6), 10**8)) / 10**10,  # 10 decimals: rounding matters
        )
        for _ in range(count)
    ]


def _built(charges: list[Charge]) -> Statements:
    statements = Statements()
    for charge in charges:
        statements.add(charge)
    return statements


def test_sums_are_exact_and_rounded_once() -> None:
    charges = _charges(random.Random(7), 5000)
    statements = _built(charges)
    for project in ("patch-rollout", "ticket-triage"):
        exact = sum((c.amount for c in charges if c.project == project), Decimal(0))
        total = statements.total(BILL, project)
        # one rounding per (day, category) line: at most half a billionth each
        lines = len(statements.lines(BILL, project))
        assert abs(total - exact) <= lines * Decimal("0.0000000005")
        rounded_per_row = sum(
            (c.amount.quantize(Decimal("0.000001")) for c in charges if c.project == project),
            Decimal(0),
        )
        assert abs(total - exact) < abs(rounded_per_row - exact) or rounded_per_row == exact


def test_the_version_is_the_content_not_the_order() -> None:
    charges = _charges(random.Random(8), 500)
    shuffled = list(charges)
    random.Random(9).shuffle(shuffled)
    assert _built(charges).version(BILL) == _built(shuffled).version(BILL)
    changed = [*charges[:-1], replace(charges[-1], amount=charges[-1].amount + 1)]
    assert _built(changed).version(BILL) != _built(charges).version(BILL)


def test_a_project_no_longer_mentioned_gets_an_empty_statement() -> None:
    statements = _built(_charges(random.Random(10), 50))
    events = statement_events(
        statements, BILL, issued=NOW, known={"cost-optimizer", "patch-rollout"}, currency="USD"
    )
    by_project = {event.project: event.data for event in events}
    assert sorted(by_project) == ["cost-optimizer", "patch-rollout", "ticket-triage"]
    assert all(isinstance(data, CostStatement) for data in by_project.values())
    assert by_project["cost-optimizer"].lines == ()  # type: ignore[union-attr]
    versions = {data.version for data in by_project.values()}  # type: ignore[union-attr]
    assert versions == {statements.version(BILL)}
    again = statement_events(statements, BILL, issued=NOW, currency="USD")
    assert {e.id for e in again} <= {e.id for e in events}  # the same import: the same ids


def test_a_truncated_file_stops_the_import_before_anything_is_sent(tmp_path: Path) -> None:
    """Reading ends before sending starts: no half statement replaces a whole one (the
    broker address is unusable, so any attempt to send would fail differently)."""
    whole = tmp_path / "whole.csv"
    write_bill(whole, 2000)
    truncated = tmp_path / "bill.csv.gz"
    packed = gzip.compress(whole.read_bytes())
    truncated.write_bytes(packed[: len(packed) // 2])
    options = Options("outcomes-project", "EffectiveCost", "USD", dry_run=False)
    console = Console(file=io.StringIO())
    with pytest.raises(FocusFileError, match="bill.csv.gz"):
        import_focus([whole, truncated], options, bootstrap_servers="unusable:1",
                     topic="events", console=console)  # fmt: skip
