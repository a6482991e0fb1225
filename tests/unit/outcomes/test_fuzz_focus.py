"""Fuzzed FOCUS rows (any column replaced by random text, numbers, nulls or nested values,
or removed): each becomes an exact charge of a statement, or is skipped with a reason and
detail, never an exception."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from outcomes.importers.focus.events import statement_events
from outcomes.importers.focus.mapping import MAX_ROW_AMOUNT, Charge, Skip, Skipped, to_charge
from outcomes.importers.focus.statements import Statements
from tests.support.events import NOW
from tests.support.mutate import json_values
from tests.unit.outcomes.test_focus import row

cells = st.one_of(
    json_values,
    st.sampled_from(["NULL", "", "nan", "inf", "-0", "1e309", "2024-09-24 14:00:00",
                     "2026-13-45T99:00:00Z", '{"outcomes-project": ""}', "{not json"]),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@example(changes={"Tags": [""]}, removed=set())  # found by this test: a map entry not a pair
@example(changes={"Tags": [None]}, removed=set())
@given(
    changes=st.dictionaries(st.sampled_from(sorted(row())), cells, max_size=4),
    removed=st.sets(st.sampled_from(sorted(row())), max_size=3),
)
def test_every_row_is_an_exact_charge_or_skipped_with_a_reason(
    changes: dict[str, Any], removed: set[str]
) -> None:
    data = {k: v for k, v in row(**changes).items() if k not in removed}
    result = to_charge(data, project_tag="outcomes-project", cost_column="EffectiveCost",
                       currency="USD")  # fmt: skip
    if isinstance(result, Skipped):
        assert result.reason in set(Skip) and result.detail
        return
    assert isinstance(result, Charge)
    assert result.amount.is_finite() and 0 < abs(result.amount) < MAX_ROW_AMOUNT
    statements = Statements()
    statements.add(result)
    (event,) = statement_events(
        statements, result.statement, issued=NOW, currency="USD"
    )  # a valid statement event, or an exception here
    assert event.project == result.project
