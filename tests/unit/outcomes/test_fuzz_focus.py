"""Fuzzed FOCUS rows (any column replaced by random text, numbers, nulls or nested values,
or removed): each becomes a valid cost event or is skipped with a reason and detail, never
an exception."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from outcomes.importers.focus.mapping import Skip, Skipped, to_event
from schemas.envelope import OutcomeEvent
from schemas.events import CostIncurred
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
def test_every_row_is_a_valid_cost_event_or_skipped_with_a_reason(
    changes: dict[str, Any], removed: set[str]
) -> None:
    data = {k: v for k, v in row(**changes).items() if k not in removed}
    result = to_event(data, project_tag="outcomes-project", cost_column="EffectiveCost",
                      currency="USD")  # fmt: skip
    if isinstance(result, Skipped):
        assert result.reason in set(Skip) and result.detail
        return
    assert isinstance(result, OutcomeEvent) and isinstance(result.data, CostIncurred)
    assert CostIncurred.model_validate(result.data.model_dump()) == result.data
    assert result.time.tzinfo is not None and result.data.amount != 0
