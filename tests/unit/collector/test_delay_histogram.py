"""The event-delay histogram counts a batch at once exactly as one delay at a time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.engine.health import DELAY_BOUNDS_S, DelayHistogram

delays = st.one_of(
    st.sampled_from([*DELAY_BOUNDS_S, 0.0, -0.0]),  # on a bucket's bound: the bucket below
    st.floats(min_value=-60, max_value=2e6, allow_nan=False),  # late ones; clock skew
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(delays, max_size=30), max_size=4))
def test_a_batch_at_once_equals_one_at_a_time(batches: list[list[float]]) -> None:
    one_by_one, at_once = DelayHistogram(since_s=1.0), DelayHistogram(since_s=1.0)
    for batch in batches:
        for delay_s in batch:
            one_by_one.observe(delay_s)
        at_once.observe_all(batch)
        assert at_once == one_by_one
    assert at_once.freeze() == one_by_one.freeze()
