"""Quix Streams applications: the peer the collector is measured against (bench/peers.py).
They run in the peers' own venv, `.venv-peers`, with Quix's defaults (RocksDB state backed
up to changelog topics, at-least-once).

- `sum`: a per-project sum of the events' money (quixstreams and the standard library
  only) — the least a stateful app does with these events;
- `collector`: what the collector does to each event, written as a Python team would with
  Quix: validate it with the collector's own decoder (`schemas`, pydantic only: the same
  rules and cost), drop a copy of an event already counted (its source and id kept in the
  project's state), and keep per project and month the runs per automation and outcome,
  the cost, the savings and the time saved (floats: the collector's sums are exact).

    python bench/quix_app.py BOOTSTRAP TOPIC EXPECTED [sum|collector]  ->  {"per_s": …}
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any


def run(bootstrap: str, topic_name: str, expected: int, work: str = "sum") -> float:
    from quixstreams import Application, State

    with tempfile.TemporaryDirectory() as state_dir:
        app = Application(
            broker_address=bootstrap,
            consumer_group=f"quix-{uuid.uuid4().hex[:6]}",
            auto_offset_reset="earliest",
            state_dir=state_dir,
        )
        marks: dict[str, float] = {"seen": 0}

        def counted() -> None:
            marks["seen"] += 1
            if marks["seen"] == 1:
                marks["first"] = time.perf_counter()
            if marks["seen"] >= expected:
                marks["last"] = time.perf_counter()
                app.stop()

        def total(value: dict[str, Any], state: State[Any, Any]) -> None:
            """Per project (the record key): the sum of its money."""
            data = value.get("data", value)
            amount = data.get("amount", data.get("cost", 0.0))
            state.set("money", state.get("money", 0.0) + amount)
            counted()

        if work == "collector":
            topic = app.topic(topic_name, value_deserializer="bytes")
            app.dataframe(topic).update(collector_work(counted), stateful=True, metadata=True)
        else:
            topic = app.topic(topic_name, value_deserializer="json")
            app.dataframe(topic).update(total, stateful=True)
        app.run()
    return (marks["seen"] - 1) / (marks["last"] - marks["first"])


def collector_work(counted: Any) -> Any:
    """The per-event callback of the `collector` app (state is per project: the key)."""
    sys.path.insert(0, str(Path(__file__).parents[1]))  # the collector's `schemas`
    from schemas.binding import from_record
    from schemas.envelope import EventError

    def work(value: bytes, key: bytes, timestamp: int, headers: Any, state: Any) -> None:
        counted()
        try:
            event = from_record(key, headers or [], value)
        except EventError:
            state.set("rejected", state.get("rejected", 0) + 1)
            return
        seen = f"seen/{event.source}/{event.id}"
        if state.get(seen) is not None:
            return
        state.set(seen, 1)
        data = event.data
        month = f"{event.time.year}-{event.time.month:02d}"
        if event.type.value == "outcomes.run.finished":
            runs = f"{month}/runs/{data.automation}/{data.outcome}"  # type: ignore[union-attr]
            state.set(runs, state.get(runs, 0) + 1)
            cost = f"{month}/cost"
            state.set(cost, state.get(cost, 0.0) + data.cost)  # type: ignore[union-attr]
            if data.outcome == "succeeded":  # type: ignore[union-attr]
                saved = f"{month}/saved_s"
                gain = data.manual_duration_s - data.human_effort_s  # type: ignore[union-attr, operator]
                state.set(saved, state.get(saved, 0.0) + gain)
        elif event.type.value in ("outcomes.cost.incurred", "outcomes.savings.realized"):
            kind = "cost" if event.type.value == "outcomes.cost.incurred" else "savings"
            name = f"{month}/{kind}/{data.category}"  # type: ignore[union-attr]
            state.set(name, state.get(name, 0.0) + data.amount)  # type: ignore[union-attr]
        else:
            count = f"{month}/{event.type.value}"
            state.set(count, state.get(count, 0) + 1)

    return work


if __name__ == "__main__":
    bootstrap, topic, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    work = sys.argv[4] if len(sys.argv) > 4 else "sum"
    print(json.dumps({"per_s": run(bootstrap, topic, expected, work)}))
